#pragma once
// Consecutive-token repetition (Jiang et al. 2024, "Mixtral of Experts", Table 5): how often the
// router chooses for token t+1 what it chose for token t, at one MoE layer.
//   same_top1      = P[top-1 expert at t = top-1 expert at t+1]
//   sets_intersect = P[top-k set at t and top-k set at t+1 share an expert]
// over the consecutive pairs of a document. If each token drew its top-k set uniformly at random,
// same_top1 would be 1/E and sets_intersect 1 - C(E-k, k) / C(E, k).
#include <cstdint>
#include <vector>

namespace moe {

// The counts the two probabilities need; add them over documents.
struct RepetitionCounts {
  int64_t pairs = 0;           // consecutive pairs (t, t+1) both routed with at least one expert
  int64_t same_top1 = 0;       // pairs whose first choices are equal
  int64_t sets_intersect = 0;  // pairs whose chosen sets share an expert
};

// Counts the pair (chosen experts at t, chosen experts at t+1), each highest score first. A token
// without any expert (capacity routing) makes no pair.
void count_repetition(RepetitionCounts& counts, const std::vector<int32_t>& experts,
                      const std::vector<int32_t>& next_experts);

struct Repetition {
  int64_t pairs = 0;
  double same_top1 = 0;        // 0 when there is no pair
  double sets_intersect = 0;
  double random_same_top1 = 0;        // 1/E
  double random_sets_intersect = 0;   // 1 - C(E-k, k) / C(E, k)
};
Repetition consecutive_repetition(const RepetitionCounts& counts, int n_expert, int top_k);

// 1 - C(E-k, k) / C(E, k): the chance that two top-k sets drawn uniformly share an expert.
double random_sets_intersect(int n_expert, int top_k);

}  // namespace moe
