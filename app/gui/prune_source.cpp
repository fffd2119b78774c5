#include "prune_source.hpp"

#include "moe/human_units.hpp"
#include "playground.hpp"
#include "profile_source.hpp"

namespace moescope::gui {

namespace {

std::string tokens_of(int64_t n) { return moe::human_count(static_cast<double>(n)) + " tokens"; }

}  // namespace

moe::CorpusProfile profile_of_routing(const moe::RoutingTrace& trace,
                                      std::span<const int32_t> token_ids) {
  moe::CorpusProfile profile = moe::make_corpus_profile(moe::profile_model_of(trace));
  moe::add_routing(profile, trace, token_ids, "");
  profile.documents = 1;
  return profile;
}

PruneSource prune_source(const Snapshot& snapshot, std::shared_ptr<const ProfileSource> open) {
  PruneSource source;
  if (open) {
    source.description = "the open profile (" + profile_note(*open) + ")";
    source.profile = std::shared_ptr<const moe::CorpusProfile>(open, &open->profile);
    return source;
  }
  const moe::RoutingTrace* trace = nullptr;
  std::vector<int32_t> ids;
  if (snapshot.trace.interventions().empty()) {
    trace = &snapshot.trace;
    for (const TokenView& token : snapshot.tokens) ids.push_back(token.id);
  } else if (snapshot.playground && snapshot.playground->effect &&
             snapshot.playground->effect->effect) {
    trace = &snapshot.playground->effect->effect->base.trace;
    ids = snapshot.playground->effect->tokens;
  }
  if (!trace) {
    source.problem = "The unchanged model's routing of the prompt is still being measured.";
    return source;
  }
  if (trace->n_tokens() == 0 || static_cast<int>(ids.size()) != trace->n_tokens()) {
    source.problem = "Type a prompt first: the experts are ranked by its routing.";
    return source;
  }
  source.description = "this prompt's routing on the unchanged model (" +
                       tokens_of(trace->n_tokens()) +
                       "; open a .moeprofile to rank by a whole corpus)";
  source.profile = std::make_shared<const moe::CorpusProfile>(profile_of_routing(*trace, ids));
  return source;
}

moe::RoutingInterventions with_pruned_experts(moe::RoutingInterventions current,
                                              const moe::PrunePlan& plan) {
  current.disabled = moe::prune_interventions(plan).disabled;
  return current;
}

}  // namespace moescope::gui
