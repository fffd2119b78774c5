#pragma once
// REAP saliency (Lasby et al. 2025, "REAP: Router-weighted Expert Activation Pruning"): for
// expert j at one MoE layer,
//   S_j = 1/|X_j| * sum over tokens x in X_j of g_j(x) * ||E_j(x)||
// with X_j the tokens whose top-k set holds j, g_j(x) the final gate weight and ||E_j(x)|| the
// L2 norm of the expert's output (RoutingRecord::values.expert_norms). Experts with a low S_j
// add little to the layer's output when chosen: the candidates to prune.
#include <cstdint>
#include <vector>

#include "moe/routing.hpp"

namespace moe {

// The sums S_j needs; add records one at a time.
struct ReapCounts {
  std::vector<double> weighted_norm_sum;  // per expert: sum of g_j(x) * ||E_j(x)||
  std::vector<int64_t> tokens;            // per expert: |X_j| among records with norms
};

// Adds one record. Records whose backend did not record the expert norms are skipped (they
// would bias the mean towards 0).
void count_reap(ReapCounts& counts, int n_expert, const RoutingRecord& record);

// S_j per expert; 0 for an expert no counted token chose.
std::vector<double> reap_saliency(const ReapCounts& counts);

}  // namespace moe
