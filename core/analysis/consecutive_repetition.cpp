#include "moe/consecutive_repetition.hpp"

#include <algorithm>
#include <cstddef>

namespace moe {

void count_repetition(RepetitionCounts& counts, const std::vector<int32_t>& experts,
                      const std::vector<int32_t>& next_experts) {
  if (experts.empty() || next_experts.empty()) return;
  counts.pairs += 1;
  if (experts.front() == next_experts.front()) counts.same_top1 += 1;
  const bool shared = std::any_of(experts.begin(), experts.end(), [&](int32_t expert) {
    return std::find(next_experts.begin(), next_experts.end(), expert) != next_experts.end();
  });
  if (shared) counts.sets_intersect += 1;
}

double random_sets_intersect(int n_expert, int top_k) {
  if (n_expert <= 0 || top_k <= 0) return 0;
  if (2 * top_k > n_expert) return 1;  // two k-sets of E < 2k experts always meet
  // C(E-k, k) / C(E, k) = prod_{i=0}^{k-1} (E-k-i) / (E-i), computed as a product to stay finite.
  double disjoint = 1;
  for (int i = 0; i < top_k; ++i) {
    disjoint *= static_cast<double>(n_expert - top_k - i) / static_cast<double>(n_expert - i);
  }
  return 1 - disjoint;
}

Repetition consecutive_repetition(const RepetitionCounts& counts, int n_expert, int top_k) {
  Repetition result;
  result.pairs = counts.pairs;
  if (counts.pairs > 0) {
    result.same_top1 = static_cast<double>(counts.same_top1) / static_cast<double>(counts.pairs);
    result.sets_intersect =
        static_cast<double>(counts.sets_intersect) / static_cast<double>(counts.pairs);
  }
  result.random_same_top1 = n_expert > 0 ? 1.0 / n_expert : 0;
  result.random_sets_intersect = random_sets_intersect(n_expert, top_k);
  return result;
}

}  // namespace moe
