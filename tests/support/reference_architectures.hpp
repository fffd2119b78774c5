#pragma once
// The slow, obviously-correct forward pass the backends are tested against: double precision,
// plain loops, no Eigen, no KV cache (every position's keys and values are computed from
// scratch), written from the facts in ../shared/ARCHITECTURES.md (llama.cpp's computation),
// independently of the backends. Reads weights and hyper-parameters straight from the GGUF file
// (weights through dequantize_row). Covers llama, olmoe, qwen2moe, qwen3moe, granitemoe,
// deepseek2 (latent attention, q_lora or not, attn_kv_b or the split k_b / v_b, YaRN, selection
// bias, sigmoid gating, shared experts, leading dense layers), phimoe (norm biases, LongRoPE),
// gpt-oss (sinks, sliding windows, router and expert biases, clamped SwiGLU), glm4moe (partial
// RoPE, optional q/k norms, NextN blocks skipped) and dbrx (LayerNorm, clamped q/k/v), with the
// routing interventions of moe/interventions.hpp (reference_routing.hpp) on any of them.
#include <cstdint>
#include <span>
#include <vector>

#include "moe/gguf.hpp"
#include "moe/interventions.hpp"
#include "reference_routing.hpp"

namespace moe::testing {

struct ReferenceResult {
  int n_vocab = 0;
  std::vector<std::vector<double>> logits;  // [position][token id]
  // [position][layer]; an empty ReferenceRouting for dense layers.
  std::vector<std::vector<ReferenceRouting>> routing;
};

struct ReferenceOptions {
  // The context size the sequence runs with: LongRoPE files take their long factors when it
  // exceeds the original context, else the short ones.
  int n_ctx = 0;
  // Routing changes; the whole sequence is one call, as a Session computes it under a batch rule.
  RoutingInterventions interventions{};
};

ReferenceResult reference_forward(const gguf::GgufFile& file, std::span<const int32_t> tokens,
                                  const ReferenceOptions& options = {});

}  // namespace moe::testing
