#include "synthetic_routing.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace moe::testing {

// A trace that follows the routing rules: softmax probabilities, top-k experts, renormalized
// weights; random logits with a bias so that some experts are busier than others.
RoutingTrace synthetic_trace(int n_tokens, uint32_t seed) {
  RoutingTrace trace(4, kSyntheticExperts, 2, {0, 2, 3});
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1.5f);
  for (int t = 0; t < n_tokens; ++t) {
    for (int layer : trace.moe_layers()) {
      RoutingRecord record;
      float max_logit = -1e30f;
      for (int e = 0; e < kSyntheticExperts; ++e) {
        record.logits.push_back(noise(rng) + 0.3f * static_cast<float>(e % 3));
        max_logit = std::max(max_logit, record.logits.back());
      }
      float sum = 0;
      for (float logit : record.logits) {
        record.probs.push_back(std::exp(logit - max_logit));
        sum += record.probs.back();
      }
      for (float& p : record.probs) p /= sum;
      std::vector<int32_t> order(kSyntheticExperts);
      for (int e = 0; e < kSyntheticExperts; ++e) order[static_cast<size_t>(e)] = e;
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return record.probs[static_cast<size_t>(a)] > record.probs[static_cast<size_t>(b)];
      });
      record.experts = {order[0], order[1]};
      const float chosen =
          record.probs[static_cast<size_t>(order[0])] + record.probs[static_cast<size_t>(order[1])];
      record.weights = {record.probs[static_cast<size_t>(order[0])] / chosen,
                        record.probs[static_cast<size_t>(order[1])] / chosen};
      trace.set(t, layer, std::move(record));
    }
  }
  return trace;
}

}  // namespace moe::testing
