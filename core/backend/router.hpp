#pragma once
// The routing rule applied to one token's router logits: scores (softmax or sigmoid), top-k
// with ties to the lower expert id, gate weights (renormalized where the architecture says).
// Backend-neutral, so every backend routes exactly alike.
#include <cstdint>
#include <span>
#include <vector>

#include "moe/arch.hpp"

namespace moe {

struct RouteDecision {
  std::vector<float> probs;      // scores over all experts
  std::vector<int32_t> experts;  // top-k, highest score first
  std::vector<float> weights;    // gate weight per chosen expert
};

void route_token(const Architecture& arch, std::span<const float> logits, int top_k,
                 RouteDecision& decision);

}  // namespace moe
