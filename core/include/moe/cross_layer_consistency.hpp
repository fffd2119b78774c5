#pragma once
// Cross-layer consistency: does a token's expert at one MoE layer predict its expert at the next?
//   P(b at l+1 | a at l) = N(a in S_l and b in S_l+1) / N(a in S_l)
// with S_l a token's top-k set at MoE layer l (so each row sums to k; uniform routing gives k/E),
// and the normalized mutual information of the top-1 choices of the two layers,
//   NMI = 2 I(X; Y) / (H(X) + H(Y)),  X = top-1 at l, Y = top-1 at l+1,
// (the arithmetic normalization, scikit-learn's default): 0 for independent layers, 1 when one
// layer's choice determines the other's and back.
#include <cstdint>
#include <vector>

namespace moe {

// Counts one token's step from MoE layer l to l+1: all[a * E + b] += 1 for every a in `experts`
// and b in `next_experts`; top1[first * E + next first] += 1. Both tables are E x E row-major.
void count_transition(std::vector<int64_t>& all, std::vector<int64_t>& top1, int n_expert,
                      const std::vector<int32_t>& experts, const std::vector<int32_t>& next_experts);

// P(b at l+1 | a at l) from `all` and N(a in S_l) (`chosen`, E entries); rows of experts never
// chosen are 0.
std::vector<double> transition_probability(const std::vector<int64_t>& all,
                                           const std::vector<int64_t>& chosen, int n_expert);

// NMI (above) of a joint count table counts[a * E + b]; 0 when either marginal has no entropy.
double normalized_mutual_information(const std::vector<int64_t>& counts, int n_expert);

}  // namespace moe
