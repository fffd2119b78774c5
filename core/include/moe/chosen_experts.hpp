#pragma once
// Traces that hold only the chosen experts: what an inference server (SGLang, vLLM) returns for
// a model too large for one machine, and what the import formats hold. The server gives the
// expert ids per token and layer, but neither the model's shape nor the router scores; the
// shape comes from the model's Hugging Face config.json or from the user (--layers, --top-k),
// and is checked against the ids, never guessed.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "moe/routing.hpp"

namespace moe {

// What a trace needs to know about the model that produced it.
struct TraceShape {
  int n_layer = 0;              // all layers, dense ones included
  int n_expert = 0;             // routed experts per MoE layer (0: not known, see below)
  int top_k = 0;                // experts chosen per token
  std::vector<int> moe_layers;  // the layers that route, ascending
  std::string model;            // a name to show (config's model type, or the server's)
};

// The shape from a Hugging Face config.json (or its "text_config" for multimodal models):
// layers from num_hidden_layers, experts from n_routed_experts / num_experts /
// num_local_experts, top-k from num_experts_per_tok, and the dense layers from
// first_k_dense_replace and moe_layer_freq (DeepSeek, Kimi K2, GLM-4.5), decoder_sparse_step
// and mlp_only_layers (Qwen-MoE) or interleave_moe_layer_step (Llama 4). Throws moe::Error
// naming `source` and the keys that are missing.
TraceShape trace_shape_from_hf_config(const nlohmann::json& config, const std::string& source);
TraceShape read_hf_config(const std::filesystem::path& path);
// The shape from counts the user gave: every layer routes. n_expert 0: unknown (then
// chosen_experts_trace takes the largest id + 1).
TraceShape trace_shape_from_counts(int n_layer, int top_k, int n_expert = 0);
// What the user gave (--model-config, or --layers / --top-k / --experts; 0 for not given):
// nullopt when nothing; moe::Error when both kinds or only one of layers and top-k.
std::optional<TraceShape> trace_shape_from_user(const std::string& model_config, int n_layer,
                                                int top_k, int n_expert);

// Expert ids laid out [rows][layer_axis][width] (C order), row i being token position i.
// layer_axis is either every layer of the model (SGLang and vLLM count layers by the model's
// layer id; the rows of dense layers are ignored) or only its MoE layers; width is top-k.
// Anything else, or an id outside 0 .. n_expert - 1 at a MoE layer, throws moe::Error naming
// `source` and the numbers. The trace is chosen_experts_only().
RoutingTrace chosen_experts_trace(TraceShape shape, std::span<const int32_t> ids, int64_t rows,
                                  int64_t layer_axis, int64_t width, const std::string& source);
// The same when only the number of values is known (base64 of int32): rows must be given;
// the layer axis is worked out from the count (all layers or MoE layers) or an error says
// which counts were expected.
RoutingTrace chosen_experts_trace(const TraceShape& shape, std::span<const int32_t> ids,
                                  int64_t rows, const std::string& source);

// One record of a chosen-experts-only trace: equal weights, since the gate weights are not known
// (exports write none).
RoutingRecord chosen_experts_record(std::vector<int32_t> experts);

// The message views and commands give for what needs router scores.
inline constexpr const char* kChosenExpertsOnlyNote =
    "the server returns only the chosen experts: router scores, probabilities, entropy and gate "
    "weights are not known";

}  // namespace moe
