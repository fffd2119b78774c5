#pragma once
// A pruning plan: which experts of each MoE layer to keep when a model is cut to a share of its
// experts, ranked from a corpus profile. Expert pruning as studied by REAP (Lasby et al. 2025):
// every MoE layer keeps the same number of experts, round(keep_share * E) but never fewer than
// the model's top-k (so every token still gets its k experts), chosen by
// - reap:      the highest REAP saliency (moe/reap_saliency.hpp),
// - frequency: the most tokens routed to the expert (its top-k hits),
// - random:    a seeded random choice, the baseline the papers compare against.
// Ties go to the lower expert id. Applied as a routing intervention, the pruned experts are
// disabled (router logit -inf, moe/interventions.hpp): the model as if they had been removed.
// Stored as JSON (docs/moeprofile.md, "Prune plans").
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "moe/corpus_profile.hpp"
#include "moe/interventions.hpp"

namespace moe {

enum class PruneCriterion { Reap, Frequency, Random };

// "reap", "frequency" or "random"; throws moe::Error on anything else.
PruneCriterion parse_prune_criterion(const std::string& text);
std::string prune_criterion_name(PruneCriterion criterion);

struct PrunedLayer {
  int layer = 0;              // model layer
  std::vector<int> kept;      // expert ids, ascending
  std::vector<int> pruned;    // expert ids, ascending
  std::vector<double> score;  // [e]: what the experts were ranked by (empty for random)
  bool operator==(const PrunedLayer&) const = default;
};

struct PrunePlan {
  ProfileModel model;  // the model the profile was made with
  double keep_share = 1;
  PruneCriterion criterion = PruneCriterion::Frequency;
  uint64_t seed = 0;                 // random only
  std::vector<PrunedLayer> layers;   // one per MoE layer, in layer order
  bool operator==(const PrunePlan&) const = default;
};

// Throws moe::Error for keep_share outside (0, 1], or for reap on a profile without expert
// output norms (made with a backend that does not record them).
PrunePlan make_prune_plan(const CorpusProfile& profile, double keep_share, PruneCriterion criterion,
                          uint64_t seed = 0);

// The plan as interventions: every pruned expert disabled at its layer.
RoutingInterventions prune_interventions(const PrunePlan& plan);
// Throws moe::Error when the plan was made for a model of another shape (experts, MoE layers).
void check_plan_fits(const PrunePlan& plan, int n_expert, const std::vector<int>& moe_layers);

nlohmann::json prune_plan_to_json(const PrunePlan& plan);
// Throws moe::Error naming `name` and what is wrong (not a plan, a newer version, bad fields,
// experts out of range or listed twice).
PrunePlan prune_plan_from_json(const nlohmann::json& json, const std::string& name);
void write_prune_plan(const std::filesystem::path& path, const PrunePlan& plan);  // atomically
PrunePlan read_prune_plan(const std::filesystem::path& path);

}  // namespace moe
