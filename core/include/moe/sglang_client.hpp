#pragma once
// SGLang's native HTTP API as a routing source: POST /generate with "return_routed_experts",
// GET /server_info to say why an answer has no routing. The model's shape (layers, top-k, dense
// layers) does not come from the server; it is the caller's TraceShape.
#include <string>

#include "moe/engine_routing.hpp"
#include "moe/http_client.hpp"

namespace moe {

struct SglangRequest {
  std::string prompt;
  // Tokens to generate. 0 routes the prompt alone (SGLang is asked for one token and its
  // routing, which covers exactly the prompt's positions).
  int max_new_tokens = 0;
  double temperature = 0;
};

// The request body /generate gets (tests compare it with what the fake server saw).
std::string sglang_generate_body(const SglangRequest& request);

// Routes `request.prompt` on the server at `base_url` (e.g. http://gpu-node:30000). Throws
// moe::Error naming the URL when the server is down, answers with an error, was started without
// --enable-return-routed-experts (then it says so, with the flag), or returns routing that does
// not match `shape`.
ImportedTrace sglang_route(const std::string& base_url, const SglangRequest& request,
                           const TraceShape& shape, const HttpOptions& options = {});

}  // namespace moe
