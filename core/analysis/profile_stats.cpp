#include "moe/profile_stats.hpp"

#include <algorithm>
#include <cstdint>

namespace moe {

namespace {

LayerLoad load_of(int layer, const std::vector<int64_t>& token_counts, int64_t tokens) {
  LayerLoad load;
  load.layer = layer;
  load.token_counts = token_counts;
  finish_balance(load, static_cast<int>(std::min<int64_t>(tokens, INT32_MAX)));
  return load;
}

}  // namespace

RoutingStats pooled_stats(const CorpusProfile& profile) {
  RoutingStats stats;
  stats.scores_known = false;
  stats.n_tokens = static_cast<int>(std::min<int64_t>(profile.tokens, INT32_MAX));
  for (const ProfileLayer& layer : profile.layers) {
    LayerLoad load = load_of(layer.layer, layer.token_counts, layer.tokens);
    load.gate_mass = layer.gate_mass;
    stats.layers.push_back(std::move(load));
    stats.coactivation.push_back(layer.coactivation);
    if (!layer.transitions.empty()) stats.transitions.push_back(layer.transitions);
  }
  return stats;
}

ProfileDomains profile_domains(const CorpusProfile& profile) {
  ProfileDomains result;
  std::vector<DomainCounts> counts;
  for (const auto& [label, domain] : profile.domains) {  // std::map: name order
    if (label.empty()) continue;
    result.names.push_back(label);
    counts.push_back(domain);
    RoutingStats stats;
    stats.scores_known = false;
    stats.n_tokens = static_cast<int>(std::min<int64_t>(domain.tokens, INT32_MAX));
    for (size_t m = 0; m < profile.model.moe_layers.size() && m < domain.expert_tokens.size() &&
                       m < domain.layer_tokens.size();
         ++m) {
      stats.layers.push_back(
          load_of(profile.model.moe_layers[m], domain.expert_tokens[m], domain.layer_tokens[m]));
    }
    result.stats.push_back(std::move(stats));
  }
  if (!counts.empty()) {
    result.specialization = domain_specialization(counts, profile.model.moe_layers);
  }
  return result;
}

}  // namespace moe
