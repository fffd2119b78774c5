#include "moe/sglang_client.hpp"

#include "moe/error.hpp"

namespace moe {

namespace {

std::string endpoint(const std::string& base_url, const char* path) {
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.find("://") == std::string::npos) url = "http://" + url;
  return url + path;
}

nlohmann::json parse_answer(const HttpResponse& response, const std::string& url) {
  if (response.status < 200 || response.status >= 300) {
    std::string detail = response.body.substr(0, 300);
    for (char& c : detail)
      if (c == '\n' || c == '\r') c = ' ';
    throw Error(url + ": the server answered HTTP " + std::to_string(response.status) +
                (detail.empty() ? "" : ": " + detail));
  }
  try {
    return nlohmann::json::parse(response.body);
  } catch (const nlohmann::json::exception&) {
    throw Error(url + ": the answer is not JSON (" + std::to_string(response.body.size()) +
                " bytes; cut off, or not an SGLang server?)");
  }
}

// Why an answer came without routing: the server's own flag when it tells it.
[[noreturn]] void explain_missing_routing(const std::string& base_url, const HttpOptions& options) {
  const std::string url = endpoint(base_url, "/server_info");
  bool disabled = false;
  try {
    const nlohmann::json info = parse_answer(http_request("GET", url, "", options), url);
    disabled = info.is_object() && info.contains("enable_return_routed_experts") &&
               info.at("enable_return_routed_experts") == false;
  } catch (const HttpCancelled&) {
    throw;
  } catch (const Error&) {
    // No /server_info: say what is missing anyway.
  }
  throw Error(base_url + ": the server returns no routing" +
              std::string(disabled
                              ? " (its /server_info says enable_return_routed_experts is false)"
                              : "") +
              ": restart SGLang with --enable-return-routed-experts");
}

}  // namespace

std::string sglang_generate_body(const SglangRequest& request) {
  // logprob_start_len 0 and return_text_in_logprobs give the prompt's token ids and texts.
  const nlohmann::json body = {
      {"text", request.prompt},
      {"sampling_params",
       {{"max_new_tokens", request.max_new_tokens > 0 ? request.max_new_tokens : 1},
        {"temperature", request.temperature}}},
      {"return_routed_experts", true},
      {"return_logprob", true},
      {"logprob_start_len", 0},
      {"return_text_in_logprobs", true}};
  return body.dump();
}

ImportedTrace sglang_route(const std::string& base_url, const SglangRequest& request,
                           const TraceShape& shape, const HttpOptions& options) {
  if (request.prompt.empty()) throw Error("the prompt is empty: nothing to route");
  const std::string url = endpoint(base_url, "/generate");
  const nlohmann::json answer =
      parse_answer(http_request("POST", url, sglang_generate_body(request), options), url);
  if (!sglang_answer_has_routing(answer)) explain_missing_routing(base_url, options);
  ImportedTrace imported = trace_from_sglang_answer(answer, shape, url);
  if (request.max_new_tokens <= 0) {
    // Asked for one token only to get the prompt's routing: it is not part of the trace.
    imported.completion.clear();
  }
  imported.source = base_url;
  return imported;
}

}  // namespace moe
