#pragma once
// What the Playground's "Prune experts" ranks the experts by, and the interventions a plan
// becomes (moe/prune_plan.hpp). Window-free, so the tests check it without the app.
#include <memory>
#include <span>
#include <string>

#include "moe/corpus_profile.hpp"
#include "moe/interventions.hpp"
#include "moe/prune_plan.hpp"
#include "moe/routing.hpp"
#include "worker.hpp"

namespace moescope::gui {

struct ProfileSource;

// The ranking's source: the open corpus profile, else the current prompt's routing on the
// unchanged model (the snapshot's trace when no intervention is on, else the unchanged side of
// the measured effect: pruning must not rank by a routing it has already pruned).
struct PruneSource {
  std::shared_ptr<const moe::CorpusProfile> profile;  // null: none ready (see problem)
  std::string description;  // for the view: "the open profile (...)", "this prompt's ..."
  std::string problem;      // why there is none
};
PruneSource prune_source(const Snapshot& snapshot, std::shared_ptr<const ProfileSource> open);

// A routing as a profile of one document (REAP needs the expert output norms the CPU backend
// records with a trace). Throws moe::Error when the trace and the token ids disagree.
moe::CorpusProfile profile_of_routing(const moe::RoutingTrace& trace,
                                      std::span<const int32_t> token_ids);

// `current` with the plan's pruned experts as its disabled experts (the others dropped; the
// other interventions kept).
moe::RoutingInterventions with_pruned_experts(moe::RoutingInterventions current,
                                              const moe::PrunePlan& plan);

}  // namespace moescope::gui
