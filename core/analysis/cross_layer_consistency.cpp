#include "moe/cross_layer_consistency.hpp"

#include <cmath>
#include <cstddef>

#include "moe/domain_specialization.hpp"

namespace moe {

namespace {

double entropy_bits(const std::vector<double>& counts, double total) {
  double h = 0;
  for (double n : counts) {
    if (n > 0) h -= n / total * std::log2(n / total);
  }
  return h;
}

bool valid(int32_t expert, int n_expert) { return expert >= 0 && expert < n_expert; }

}  // namespace

void count_transition(std::vector<int64_t>& all, std::vector<int64_t>& top1, int n_expert,
                      const std::vector<int32_t>& experts, const std::vector<int32_t>& next_experts) {
  const auto e = static_cast<size_t>(n_expert);
  all.resize(e * e, 0);
  top1.resize(e * e, 0);
  for (int32_t a : experts) {
    if (!valid(a, n_expert)) continue;
    for (int32_t b : next_experts) {
      if (valid(b, n_expert)) all[static_cast<size_t>(a) * e + static_cast<size_t>(b)] += 1;
    }
  }
  if (!experts.empty() && !next_experts.empty() && valid(experts.front(), n_expert) &&
      valid(next_experts.front(), n_expert)) {
    top1[static_cast<size_t>(experts.front()) * e + static_cast<size_t>(next_experts.front())] += 1;
  }
}

std::vector<double> transition_probability(const std::vector<int64_t>& all,
                                           const std::vector<int64_t>& chosen, int n_expert) {
  const auto e = static_cast<size_t>(n_expert);
  std::vector<double> p(e * e, 0);
  if (all.size() != e * e || chosen.size() != e) return p;
  for (size_t a = 0; a < e; ++a) {
    if (chosen[a] <= 0) continue;
    for (size_t b = 0; b < e; ++b) {
      p[a * e + b] = static_cast<double>(all[a * e + b]) / static_cast<double>(chosen[a]);
    }
  }
  return p;
}

double normalized_mutual_information(const std::vector<int64_t>& counts, int n_expert) {
  const auto e = static_cast<size_t>(n_expert);
  if (counts.size() != e * e) return 0;
  std::vector<std::vector<long long>> table(e, std::vector<long long>(e, 0));
  std::vector<double> rows(e, 0), columns(e, 0);
  double total = 0;
  for (size_t a = 0; a < e; ++a) {
    for (size_t b = 0; b < e; ++b) {
      const int64_t n = counts[a * e + b];
      table[a][b] = n;
      rows[a] += static_cast<double>(n);
      columns[b] += static_cast<double>(n);
      total += static_cast<double>(n);
    }
  }
  if (total <= 0) return 0;
  const double h = entropy_bits(rows, total) + entropy_bits(columns, total);
  if (h <= 0) return 0;
  return 2 * mutual_information_bits(table) / h;
}

}  // namespace moe
