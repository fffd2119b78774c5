#pragma once
// HTTP requests (libcurl) for the routing sources that are servers: timeouts, retries with
// backoff, a cap on the answer's size, and cancellation from another thread.
#include <cstdint>
#include <functional>
#include <string>

#include "moe/error.hpp"

namespace moe {

struct HttpOptions {
  double connect_timeout_s = 10;
  double timeout_s = 600;  // the whole request (a long generation on a busy server takes a while)
  int retries = 2;         // more tries after a failed connection or a 502 / 503 / 504
  double backoff_s = 0.5;  // wait before the first retry, doubled each time
  uint64_t max_response_bytes = uint64_t{512} << 20;
  // Polled while waiting (at least once a second, and during backoff); true stops the request
  // with HttpCancelled.
  std::function<bool()> cancelled;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// What a cancelled request throws (a moe::Error, so callers that only report errors still can).
class HttpCancelled : public Error {
public:
  HttpCancelled() : Error("cancelled") {}
};

// GET when `body` is empty and `method` is "GET", else POST of JSON. Throws moe::Error naming
// the URL when the server cannot be reached, does not answer in time or answers too much; an
// HTTP error status is returned, not thrown (the caller knows what it means).
HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& json_body, const HttpOptions& options);

}  // namespace moe
