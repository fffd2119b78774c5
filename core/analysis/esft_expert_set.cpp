#include "moe/esft_expert_set.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>

namespace moe {

ExpertSet fewest_experts_covering(const std::vector<double>& mass, double p) {
  ExpertSet set;
  p = std::clamp(p, 0.0, 1.0);
  double total = 0;
  for (double m : mass) total += m > 0 ? m : 0;  // a negative mass cannot cover anything
  if (total <= 0 || p <= 0) return set;
  std::vector<int> order(mass.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return mass[static_cast<size_t>(a)] > mass[static_cast<size_t>(b)]; });
  // A relative tolerance so that p = 1 is reached despite rounding in the sum.
  const double target = p * total * (1 - 1e-12);
  double covered = 0;
  for (int expert : order) {
    if (covered >= target) break;
    const double m = mass[static_cast<size_t>(expert)];
    if (m <= 0) break;
    set.experts.push_back(expert);
    covered += m;
  }
  set.covered = covered / total;
  return set;
}

}  // namespace moe
