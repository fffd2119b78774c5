#pragma once
// A task's expert set (Wang et al. 2024, "Let the Expert Stick to His Last: Expert-Specialized
// Fine-Tuning", ESFT): per MoE layer, the fewest experts whose share of the routing mass on the
// task's data reaches p. The mass of expert j is the sum of its gate weights over the tokens
// (ESFT's average gate score times the token count: the same order and shares). The experts are
// taken by decreasing mass (ties: lower id first) until their share is >= p.
#include <vector>

namespace moe {

struct ExpertSet {
  std::vector<int> experts;  // by decreasing mass
  double covered = 0;        // their share of the layer's mass (>= p unless the mass is 0)
};

// p is clamped to [0, 1]; p = 0 or a mass of 0 gives the empty set.
ExpertSet fewest_experts_covering(const std::vector<double>& mass, double p);

}  // namespace moe
