#include "moe/expert_coactivation.hpp"

#include <cstddef>

namespace moe {

void count_coactivation(std::vector<int64_t>& counts, int n_expert,
                        const std::vector<int32_t>& experts) {
  const auto e = static_cast<size_t>(n_expert);
  counts.resize(e * e, 0);
  for (int32_t a : experts) {
    if (a < 0 || a >= n_expert) continue;
    for (int32_t b : experts) {
      if (b < 0 || b >= n_expert) continue;
      counts[static_cast<size_t>(a) * e + static_cast<size_t>(b)] += 1;  // a == b: the diagonal
    }
  }
}

std::vector<double> coactivation_ratio(const std::vector<int64_t>& counts, int n_expert) {
  const auto e = static_cast<size_t>(n_expert);
  std::vector<double> ratio(e * e, 0);
  if (counts.size() != e * e) return ratio;
  for (size_t a = 0; a < e; ++a) {
    const auto chosen = static_cast<double>(counts[a * e + a]);
    if (chosen <= 0) continue;
    for (size_t b = 0; b < e; ++b) {
      if (b != a) ratio[a * e + b] = static_cast<double>(counts[a * e + b]) / chosen;
    }
  }
  return ratio;
}

}  // namespace moe
