#include "moe/reap_saliency.hpp"

#include <cstddef>

namespace moe {

void count_reap(ReapCounts& counts, int n_expert, const RoutingRecord& record) {
  counts.weighted_norm_sum.resize(static_cast<size_t>(n_expert), 0);
  counts.tokens.resize(static_cast<size_t>(n_expert), 0);
  const LayerValues& values = record.values;
  if (!values.available || values.expert_norms.size() != record.experts.size() ||
      record.weights.size() != record.experts.size()) {
    return;
  }
  for (size_t i = 0; i < record.experts.size(); ++i) {
    const int32_t expert = record.experts[i];
    if (expert < 0 || expert >= n_expert) continue;
    counts.weighted_norm_sum[static_cast<size_t>(expert)] +=
        static_cast<double>(record.weights[i]) * static_cast<double>(values.expert_norms[i]);
    counts.tokens[static_cast<size_t>(expert)] += 1;
  }
}

std::vector<double> reap_saliency(const ReapCounts& counts) {
  std::vector<double> saliency(counts.tokens.size(), 0);
  for (size_t j = 0; j < saliency.size() && j < counts.weighted_norm_sum.size(); ++j) {
    if (counts.tokens[j] > 0) {
      saliency[j] = counts.weighted_norm_sum[j] / static_cast<double>(counts.tokens[j]);
    }
  }
  return saliency;
}

}  // namespace moe
