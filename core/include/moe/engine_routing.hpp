#pragma once
// Routing from inference engines' answers and from files (docs/trace-import.md):
// - SGLang's /generate answer (started with --enable-return-routed-experts, asked with
//   "return_routed_experts": true): meta_info.routed_experts is base64 of little-endian int32
//   [tokens][layers][top_k]; the tokens are the prompt's and the generated ones but the last
//   (prompt_tokens + completion_tokens - 1 rows); meta_info.input_token_logprobs and
//   output_token_logprobs give [logprob, token id, text] per token;
// - vLLM's routed_experts, [tokens][layers][top_k] as JSON arrays;
// - NumPy .npy files of int32 / int64 ids of that shape;
// - the moescope trace format: token texts, expert ids, optional router logits (JSON).
// Each is checked against the model's shape (moe/chosen_experts.hpp); a mismatch is an error.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "moe/chosen_experts.hpp"
#include "moe/routing.hpp"
#include "moe/routing_data.hpp"

namespace moe {

// A trace that came from outside, with its tokens.
struct ImportedTrace {
  RoutingTrace trace;
  std::vector<RoutingTokenInfo> tokens;  // one per trace position
  int prompt_tokens = 0;                 // the first positions are the prompt, the rest generated
  std::string model;                     // the model's name as the source gives it
  std::string source;                    // where it came from (a URL, a file)
  std::string completion;                // the generated text, when the source gives it
};

// SGLang answers: true when meta_info holds routed_experts.
bool sglang_answer_has_routing(const nlohmann::json& answer);
// The trace of an SGLang /generate answer (one object, or a list of one).
ImportedTrace trace_from_sglang_answer(const nlohmann::json& answer, const TraceShape& shape,
                                       const std::string& source);
// vLLM: an object with routed_experts (top level, in outputs[0] or choices[0]), or the bare
// array; prompt_token_ids / token_ids and prompt_tokens / tokens (texts) when present. Without
// a shape, every layer of the array is a MoE layer and the experts are counted from the ids.
ImportedTrace trace_from_vllm_json(const nlohmann::json& document,
                                   const std::optional<TraceShape>& shape,
                                   const std::string& source);
// A NumPy .npy array, int32 or int64 (either byte order), [tokens][layers][top_k].
ImportedTrace trace_from_npy(const std::string& bytes, const std::optional<TraceShape>& shape,
                             const std::string& source);
// The moescope trace format (format "moescope-trace", docs/trace-import.md).
ImportedTrace trace_from_moescope_json(const nlohmann::json& document, const std::string& source);

// Any of the above, or a `route --json` document, by its content. An SGLang answer needs
// `shape`. Files larger than `max_bytes` are refused.
ImportedTrace import_trace_file(const std::filesystem::path& path,
                                const std::optional<TraceShape>& shape,
                                uint64_t max_bytes = uint64_t{2} << 30);

}  // namespace moe
