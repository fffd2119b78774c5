#include "moe/corpus_profile_metrics.hpp"

#include <cstddef>

#include "moe/cross_layer_consistency.hpp"
#include "moe/expert_coactivation.hpp"
#include "moe/reap_saliency.hpp"

namespace moe {

ProfileMetrics profile_metrics(const CorpusProfile& profile, double esft_share) {
  ProfileMetrics metrics;
  metrics.esft_share = esft_share;
  const int n_expert = profile.model.n_expert;
  for (const ProfileLayer& layer : profile.layers) {
    ProfileLayerMetrics out;
    out.layer = layer.layer;
    out.tokens = layer.tokens;
    double slots = 0;
    for (int64_t n : layer.token_counts) slots += static_cast<double>(n);
    for (int64_t n : layer.token_counts) {
      out.load_share.push_back(slots > 0 ? static_cast<double>(n) / slots : 0);
    }
    out.never_activated = never_activated(layer);
    out.repetition = consecutive_repetition(layer.repetition, n_expert, profile.model.top_k);
    out.vocabulary_by_input = vocabulary_specialization(layer.by_input);
    out.vocabulary_by_next = vocabulary_specialization(layer.by_next);
    out.vocabulary_by_predicted = vocabulary_specialization(layer.by_predicted);
    out.coactivation = coactivation_ratio(layer.coactivation, n_expert);
    if (!layer.transitions.empty()) {
      out.next_layer_probability =
          transition_probability(layer.transitions, layer.token_counts, n_expert);
      out.next_layer_nmi = normalized_mutual_information(layer.top1_transitions, n_expert);
    }
    out.reap_saliency = reap_saliency(layer.reap);
    out.esft_set = fewest_experts_covering(layer.gate_mass, esft_share);
    out.cache = cache_hit_rates(layer.cache);
    metrics.layers.push_back(std::move(out));
  }
  std::vector<DomainCounts> domains;
  for (const auto& [label, counts] : profile.domains) {
    metrics.domains.push_back(label);
    domains.push_back(counts);
  }
  if (!domains.empty()) {
    metrics.domain_specialization = domain_specialization(domains, profile.model.moe_layers);
  }
  return metrics;
}

}  // namespace moe
