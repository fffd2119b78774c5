#include "moe/router_saturation.hpp"

#include <algorithm>
#include <cstddef>

#include "moe/error.hpp"

namespace moe {

void count_saturation(SaturationCounts& counts, const std::vector<int32_t>& experts_a,
                      const std::vector<int32_t>& experts_b) {
  if (experts_a.empty() || experts_b.empty()) return;
  size_t shared = 0;
  for (int32_t expert : experts_a) {
    if (std::find(experts_b.begin(), experts_b.end(), expert) != experts_b.end()) ++shared;
  }
  counts.tokens += 1;
  counts.overlap_sum += static_cast<double>(shared) / static_cast<double>(experts_b.size());
  if (experts_a.front() == experts_b.front()) counts.top1_agree += 1;
}

RouterSaturation router_saturation(const SaturationCounts& counts, int layer) {
  RouterSaturation result;
  result.layer = layer;
  result.tokens = counts.tokens;
  if (counts.tokens > 0) {
    result.mean_overlap = counts.overlap_sum / static_cast<double>(counts.tokens);
    result.top1_agreement =
        static_cast<double>(counts.top1_agree) / static_cast<double>(counts.tokens);
  }
  return result;
}

void count_saturation(std::vector<SaturationCounts>& counts, const std::vector<int>& layers,
                      const RoutingTrace& a, const RoutingTrace& b) {
  if (a.moe_layers() != layers || b.moe_layers() != layers) {
    throw Error("router saturation needs two models with the same MoE layers");
  }
  if (a.n_tokens() != b.n_tokens()) {
    throw Error("router saturation needs the same tokens: " + std::to_string(a.n_tokens()) +
                " against " + std::to_string(b.n_tokens()));
  }
  counts.resize(layers.size());
  for (size_t m = 0; m < layers.size(); ++m) {
    for (int t = 0; t < a.n_tokens(); ++t) {
      if (a.has(t, layers[m]) && b.has(t, layers[m])) {
        count_saturation(counts[m], a.at(t, layers[m]).experts, b.at(t, layers[m]).experts);
      }
    }
  }
}

std::vector<RouterSaturation> router_saturation(const RoutingTrace& a, const RoutingTrace& b) {
  std::vector<SaturationCounts> counts;
  count_saturation(counts, a.moe_layers(), a, b);
  std::vector<RouterSaturation> layers;
  for (size_t m = 0; m < counts.size(); ++m) {
    layers.push_back(router_saturation(counts[m], a.moe_layers()[m]));
  }
  return layers;
}

}  // namespace moe
