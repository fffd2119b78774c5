#pragma once
// The Playground's "Prune experts": keep the n best experts of every MoE layer, ranked by REAP
// saliency, tokens routed or at random (moe/prune_plan.hpp) from the open corpus profile or the
// prompt's routing, and disable the others through the Playground's interventions, so that its
// effect measurement (perplexity, KL, load) shows the pruned model beside the unchanged one.
#include <string>

#include "moe/interventions.hpp"
#include "view.hpp"

namespace moescope::gui {

struct PruneControlState {
  int keep = -1;         // experts kept per layer; -1 (or out of range): all of them
  int criterion = 0;     // a moe::PruneCriterion
  bool pruning = false;  // a plan is applied (its experts are the disabled ones)
  std::string message;   // what the last change pruned, or why it could not
  bool message_is_error = false;
};

// Draws the control; a change writes the plan's pruned experts into `edit` as its disabled
// experts and sets `changed` (the Playground hands `edit` to the worker).
void draw_prune_control(ViewContext& view, PruneControlState& state,
                        moe::RoutingInterventions& edit, bool& changed);

}  // namespace moescope::gui
