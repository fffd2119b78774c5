#include "moe/corpus_profile.hpp"

#include <cstddef>

#include "moe/cross_layer_consistency.hpp"
#include "moe/error.hpp"
#include "moe/expert_coactivation.hpp"

namespace moe {

namespace {

const std::vector<int32_t> kNoExperts;

const std::vector<int32_t>& experts_at(const RoutingTrace& trace, int t, int layer) {
  return trace.has(t, layer) ? trace.at(t, layer).experts : kNoExperts;
}

}  // namespace

ProfileModel profile_model_of(const RoutingTrace& trace) {
  ProfileModel model;
  model.n_layer = trace.n_layer();
  model.n_expert = trace.n_expert();
  model.top_k = trace.top_k();
  model.moe_layers = trace.moe_layers();
  return model;
}

CorpusProfile make_corpus_profile(const ProfileModel& model) {
  CorpusProfile profile;
  profile.model = model;
  const auto e = static_cast<size_t>(model.n_expert);
  for (size_t m = 0; m < model.moe_layers.size(); ++m) {
    ProfileLayer layer;
    layer.layer = model.moe_layers[m];
    layer.token_counts.assign(e, 0);
    layer.top1_counts.assign(e, 0);
    layer.gate_mass.assign(e, 0);
    layer.coactivation.assign(e * e, 0);
    if (m + 1 < model.moe_layers.size()) {
      layer.transitions.assign(e * e, 0);
      layer.top1_transitions.assign(e * e, 0);
    }
    layer.reap.weighted_norm_sum.assign(e, 0);
    layer.reap.tokens.assign(e, 0);
    layer.cache.lru_hits.assign(e, 0);
    layer.cache.belady_hits.assign(e, 0);
    profile.layers.push_back(std::move(layer));
  }
  return profile;
}

void add_routing(CorpusProfile& profile, const RoutingTrace& trace,
                  std::span<const int32_t> tokens, const std::string& domain,
                  std::span<const int32_t> predicted) {
  const ProfileModel& model = profile.model;
  if (trace.n_expert() != model.n_expert || trace.top_k() != model.top_k ||
      trace.moe_layers() != model.moe_layers) {
    throw Error("the document was routed by a model of another shape than the profile's");
  }
  const int n_tokens = trace.n_tokens();
  if (tokens.size() != static_cast<size_t>(n_tokens)) {
    throw Error("add_routing: " + std::to_string(tokens.size()) + " token ids for a trace of " +
                std::to_string(n_tokens) + " tokens");
  }
  if (!predicted.empty() && predicted.size() != tokens.size()) {
    throw Error("add_routing: " + std::to_string(predicted.size()) + " predicted tokens for " +
                std::to_string(tokens.size()) + " tokens");
  }
  const int n_expert = model.n_expert;
  const auto n_moe = static_cast<int>(model.moe_layers.size());
  auto found = profile.domains.find(domain);
  if (found == profile.domains.end()) {
    found = profile.domains.emplace(domain, make_domain_counts(domain, n_moe, n_expert)).first;
  }
  DomainCounts& domain_counts = found->second;

  for (int m = 0; m < n_moe; ++m) {
    ProfileLayer& layer = profile.layers[static_cast<size_t>(m)];
    const int l = layer.layer;
    std::vector<std::vector<int32_t>> requests;  // the document's stream for the cache curves
    for (int t = 0; t < n_tokens; ++t) {
      if (!trace.has(t, l)) continue;
      const RoutingRecord& record = trace.at(t, l);
      layer.tokens += 1;
      for (size_t i = 0; i < record.experts.size(); ++i) {
        const int32_t expert = record.experts[i];
        if (expert < 0 || expert >= n_expert) continue;
        layer.token_counts[static_cast<size_t>(expert)] += 1;
        // A chosen-experts-only trace's weights are stand-ins: no gate mass from them.
        if (i < record.weights.size() && !trace.chosen_experts_only())
          layer.gate_mass[static_cast<size_t>(expert)] += record.weights[i];
      }
      if (!record.experts.empty() && record.experts.front() >= 0 &&
          record.experts.front() < n_expert) {
        layer.top1_counts[static_cast<size_t>(record.experts.front())] += 1;
      }
      count_coactivation(layer.coactivation, n_expert, record.experts);
      count_reap(layer.reap, n_expert, record);
      count_domain_token(domain_counts, m, record);
      count_token_experts(layer.by_input, n_expert, tokens[static_cast<size_t>(t)], record.experts);
      if (static_cast<size_t>(t) < predicted.size()) {
        count_token_experts(layer.by_predicted, n_expert, predicted[static_cast<size_t>(t)],
                            record.experts);
      }
      if (t + 1 < n_tokens) {
        count_token_experts(layer.by_next, n_expert, tokens[static_cast<size_t>(t) + 1],
                            record.experts);
        count_repetition(layer.repetition, record.experts, experts_at(trace, t + 1, l));
      }
      if (m + 1 < n_moe) {
        const int next_layer = model.moe_layers[static_cast<size_t>(m) + 1];
        count_transition(layer.transitions, layer.top1_transitions, n_expert, record.experts,
                         experts_at(trace, t, next_layer));
      }
      requests.push_back(record.experts);
    }
    count_cache_hits(layer.cache, n_expert, requests);
  }
  profile.tokens += n_tokens;
}

std::vector<int> never_activated(const ProfileLayer& layer) {
  std::vector<int> experts;
  for (size_t e = 0; e < layer.token_counts.size(); ++e) {
    if (layer.token_counts[e] == 0) experts.push_back(static_cast<int>(e));
  }
  return experts;
}

}  // namespace moe
