#pragma once
// A slow, obviously-correct forward pass in double precision for every supported architecture,
// written from the facts in ../shared/ARCHITECTURES.md (llama.cpp's computation), independently
// of the backends: plain loops, no Eigen, no KV cache. Reads weights and hyper-parameters straight
// from the GGUF file. Covers llama, olmoe, qwen2moe, qwen3moe, granitemoe, deepseek2 (latent
// attention, q_lora or not, attn_kv_b or the split k_b / v_b, YaRN, selection bias, sigmoid
// gating, shared experts, leading dense layers) and phimoe (norm biases, LongRoPE).
#include <cstdint>
#include <span>
#include <vector>

#include "moe/gguf.hpp"

namespace moe::testing {

struct ArchReferenceRoute {
  std::vector<double> logits;
  std::vector<double> scores;     // softmax or sigmoid of the logits (unbiased)
  std::vector<int32_t> experts;   // top-k by score (+ selection bias), ties to the lower id
  std::vector<double> weights;    // final gate weights, same order
  std::vector<double> selection;  // the values top-k chose by (scores + bias)
};

struct ArchReference {
  int n_vocab = 0;
  std::vector<std::vector<double>> logits;  // [position][token id]
  // [position][layer]; empty routes for dense layers.
  std::vector<std::vector<ArchReferenceRoute>> routing;
};

// n_ctx: the context size the sequence runs with (LongRoPE picks its factors by it).
ArchReference reference_forward_any(const gguf::GgufFile& file, std::span<const int32_t> tokens,
                                    int n_ctx);

}  // namespace moe::testing
