#pragma once
// A corpus profile seen as the pooled statistics of one long trace, so that every view and
// figure drawn from RoutingStats (expert load, co-activation, transitions, domains) shows a
// profile as it shows a prompt.
#include <string>
#include <vector>

#include "moe/corpus_profile.hpp"
#include "moe/domain_specialization.hpp"
#include "moe/routing_stats.hpp"

namespace moe {

// Load (token counts, gate mass, balance), co-activation and transitions per MoE layer.
// A profile keeps no router scores: scores_known is false, mean_prob is empty, and mean_entropy,
// token_entropy and the Switch loss are left at zero (figures say so instead of showing them).
RoutingStats pooled_stats(const CorpusProfile& profile);

// The profile's labelled domains (the unlabelled "" left out), in name order, and their
// specialization per MoE layer; both empty when the profile has no labelled domain.
struct ProfileDomains {
  std::vector<std::string> names;
  std::vector<RoutingStats> stats;  // per domain: its load per MoE layer (no co-activation)
  std::vector<LayerSpecialization> specialization;
};
ProfileDomains profile_domains(const CorpusProfile& profile);

}  // namespace moe
