#include "router.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moe {

void route_token(const Architecture& arch, std::span<const float> logits, int top_k,
                 RouteDecision& decision) {
  const size_t n_expert = logits.size();
  decision.probs.resize(n_expert);
  switch (arch.gating) {
    case GatingFunction::Softmax: {
      const float max_logit = *std::max_element(logits.begin(), logits.end());
      double sum = 0;
      for (size_t e = 0; e < n_expert; ++e) {
        decision.probs[e] = std::exp(logits[e] - max_logit);
        sum += decision.probs[e];
      }
      for (float& p : decision.probs) p = static_cast<float>(p / sum);
      break;
    }
    case GatingFunction::Sigmoid:
      for (size_t e = 0; e < n_expert; ++e)
        decision.probs[e] = 1.0f / (1.0f + std::exp(-logits[e]));
      break;
  }

  std::vector<int32_t> order(n_expert);
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min(static_cast<size_t>(std::max(top_k, 0)), n_expert);
  const std::vector<float>& probs = decision.probs;
  const auto higher = [&](int32_t a, int32_t b) {
    return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);  // ties: lower id first
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(), higher);
  decision.experts.assign(order.begin(), order.begin() + static_cast<ptrdiff_t>(k));

  decision.weights.resize(k);
  double chosen_sum = 0;
  for (size_t j = 0; j < k; ++j) {
    decision.weights[j] = probs[decision.experts[j]];
    chosen_sum += decision.weights[j];
  }
  if (arch.renormalize_top_k && chosen_sum > 0) {
    for (float& weight : decision.weights) weight = static_cast<float>(weight / chosen_sum);
  }
}

}  // namespace moe
