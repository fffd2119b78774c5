#pragma once
// Decoding a prompt one token at a time must give what one batched forward gives: the same
// logits at every position (up to float reordering) and the same experts at every MoE layer.
// Shared by the CPU backend tests and the per-architecture tests.
#include <string>
#include <vector>

#include "moe/random_model.hpp"

namespace moe::testing {

struct DecodeVsPrefill {
  // Per position: max relative difference of the decoded step's logits from the batched row.
  std::vector<double> logit_differences;
  // "position P, layer L" wherever the two chose different experts.
  std::vector<std::string> expert_mismatches;
};

// How far a decoded step's logits may be from the batched row on the default path: 1e-5 (float
// reordering only), except for F16/BF16 weights, whose activations are rounded to f16/bf16
// first as ggml does: a last-bit difference from the other summation order can move one
// activation across a rounding boundary, one ulp of it (2^-10 for f16, 2^-7 for bf16; measured
// 1.5e-4 on the test models): 2e-3.
double decode_tolerance(const RandomModelSpec& spec);

// Runs `n_tokens` random tokens through the CPU backend (2 threads) both ways.
DecodeVsPrefill decode_vs_prefill(const RandomModelSpec& spec, int n_ctx, int n_tokens = 10);

}  // namespace moe::testing
