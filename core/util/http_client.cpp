#include "moe/http_client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace moe {

namespace {

struct Transfer {
  std::string body;
  uint64_t max_bytes = 0;
  bool too_large = false;
  const std::function<bool()>* cancelled = nullptr;
};

size_t on_data(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->max_bytes) {
    transfer->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* transfer = static_cast<const Transfer*>(user);
  return transfer->cancelled && *transfer->cancelled && (*transfer->cancelled)() ? 1 : 0;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool worth_retrying(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR;
}

// Sleeps `seconds` in short steps, so that a cancel is noticed.
void wait_unless_cancelled(double seconds, const HttpOptions& options) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (options.cancelled && options.cancelled()) throw HttpCancelled();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& json_body, const HttpOptions& options) {
  global_init();
  double backoff = options.backoff_s;
  for (int attempt = 0;; ++attempt) {
    if (options.cancelled && options.cancelled()) throw HttpCancelled();
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw Error("cannot start an HTTP request (libcurl)");
    Transfer transfer;
    transfer.max_bytes = options.max_response_bytes;
    transfer.cancelled = &options.cancelled;
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
    if (method == "POST") {
      headers.reset(curl_slist_append(nullptr, "Content-Type: application/json"));
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
    }
    const CURLcode code = curl_easy_perform(c);
    if (code == CURLE_ABORTED_BY_CALLBACK) throw HttpCancelled();
    if (transfer.too_large) {
      throw Error(url + ": the answer is larger than " +
                  std::to_string(options.max_response_bytes >> 20) + " MiB; ask for fewer tokens");
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
      throw Error(url + ": no complete answer within " +
                  std::to_string(static_cast<int>(options.timeout_s)) + " s (" +
                  curl_easy_strerror(code) + ")");
    }
    long status = 0;
    if (code == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    const bool retry_status = status == 502 || status == 503 || status == 504;
    if ((worth_retrying(code) || retry_status) && attempt < options.retries) {
      wait_unless_cancelled(backoff, options);
      backoff *= 2;
      continue;
    }
    if (code != CURLE_OK) {
      throw Error(url + ": " +
                  (code == CURLE_COULDNT_CONNECT
                       ? std::string("cannot connect: is the server running at this address?")
                       : std::string(curl_easy_strerror(code))) +
                  (attempt > 0 ? " (tried " + std::to_string(attempt + 1) + " times)" : ""));
    }
    return {status, std::move(transfer.body)};
  }
}

}  // namespace moe
