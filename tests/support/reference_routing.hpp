#pragma once
// The routing rules of moe/interventions.hpp written out plainly, in double precision, for the
// reference forward: softmax over the enabled experts, top-k by sorting, pins, Switch-style
// capacity and expert choice. Independent of core/backend/router.cpp, which is tested against it.
#include <cstdint>
#include <vector>

#include "moe/interventions.hpp"

namespace moe::testing {

struct ReferenceRouting {
  std::vector<double> logits;
  std::vector<double> probs;
  std::vector<int32_t> experts;  // highest probability first, ties to the lower id
  std::vector<double> weights;   // renormalized to sum 1 over the chosen experts
  std::vector<int32_t> dropped;  // dropped for capacity
};

// Routes every token of one MoE layer of a sequence starting at position 0. `logits[t]` are the
// router logits of token t; `model_top_k` the model's k. Weights renormalize over the chosen
// set (the llama rule).
std::vector<ReferenceRouting> reference_route_layer(const std::vector<std::vector<double>>& logits,
                                                    int layer, int model_top_k,
                                                    const RoutingInterventions& interventions);

}  // namespace moe::testing
