#include "prune_control.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "moe/prune_plan.hpp"
#include "prune_source.hpp"

namespace moescope::gui {

namespace {

const char* kPruneHelp =
    "Pruning removes experts from a model for good. Here every MoE layer keeps its n best\n"
    "experts and the others are knocked out, so you see what the smaller model would do:\n"
    "- REAP (Lasby et al. 2025): keep the experts whose gate weight x output size is largest\n"
    "  where they are chosen (they change the output most).\n"
    "- frequency: keep the experts most tokens were routed to.\n"
    "- random: a random choice (seed 0), the baseline the papers compare with.\n"
    "The ranking comes from the open corpus profile (File > Open a .moeprofile) or else from\n"
    "this prompt's routing on the unchanged model. The effect below (perplexity, KL, load) is\n"
    "measured against the unchanged model. No layer keeps fewer experts than its top-k.";

const char* const kCriterionLabels[] = {"REAP", "frequency", "random"};

moe::PruneCriterion criterion_of(int index) {
  return index == 0   ? moe::PruneCriterion::Reap
         : index == 1 ? moe::PruneCriterion::Frequency
                      : moe::PruneCriterion::Random;
}

// Writes the plan for `state` into `edit`; false (and the reason in state.message) when none.
bool apply_plan(const ViewContext& view, PruneControlState& state, int n_expert,
                moe::RoutingInterventions& edit) {
  state.message_is_error = true;
  if (state.keep >= n_expert) {
    edit.disabled.clear();
    state.message = "Every expert is kept.";
    state.message_is_error = false;
    return true;
  }
  const PruneSource source = prune_source(view.snapshot, view.open_profile);
  if (!source.profile) {
    state.message = source.problem;
    return false;
  }
  try {
    const moe::PrunePlan plan = moe::make_prune_plan(
        *source.profile, static_cast<double>(state.keep) / n_expert, criterion_of(state.criterion));
    moe::check_plan_fits(plan, n_expert, view.snapshot.model->config.moe_layers());
    edit = with_pruned_experts(std::move(edit), plan);
    const size_t pruned = plan.layers.empty() ? 0 : plan.layers.front().pruned.size();
    state.message = "Pruned " + std::to_string(pruned) + " of " + std::to_string(n_expert) +
                    " experts at each of " + std::to_string(plan.layers.size()) +
                    " MoE layers by " + kCriterionLabels[state.criterion] + ", ranked from " +
                    source.description + ".";
    state.message_is_error = false;
    return true;
  } catch (const std::exception& error) {
    state.message = error.what();
    return false;
  }
}

}  // namespace

void draw_prune_control(ViewContext& view, PruneControlState& state,
                        moe::RoutingInterventions& edit, bool& changed) {
  const moe::ModelConfig& config = view.snapshot.model->config;
  const int n_expert = config.n_expert;
  const int fewest = std::clamp(config.n_expert_used, 1, std::max(1, n_expert));
  // Back to all when the plan is gone (another model, the Playground's Reset).
  if (state.keep < fewest || state.keep > n_expert || (state.pruning && edit.disabled.empty())) {
    if (state.pruning) state.message.clear();
    state.keep = n_expert;
    state.pruning = false;
  }
  const int before_keep = state.keep, before_criterion = state.criterion;
  bool restore = false;

  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Prune experts: rank by");
  ImGui::SameLine();
  for (int i = 0; i < 3; ++i) {
    if (i > 0) ImGui::SameLine();
    radio_button(kCriterionLabels[i], &state.criterion, i);
  }
  ImGui::SameLine();
  help_marker(kPruneHelp);

  ImGui::BeginDisabled(state.keep <= fewest);
  if (button("Keep fewer")) --state.keep;
  ImGui::EndDisabled();
  ImGui::SameLine();
  // The slider's grab would cover a sentence: the sentence stands beside it.
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  ImGui::SliderInt("##prune_keep", &state.keep, fewest, n_expert, "%d",
                   ImGuiSliderFlags_AlwaysClamp);
  ImGui::SameLine();
  ImGui::BeginDisabled(state.keep >= n_expert);
  if (button("Keep more")) ++state.keep;
  ImGui::EndDisabled();
  ImGui::SameLine();
  const int percent = static_cast<int>(std::lround(100.0 * state.keep / std::max(1, n_expert)));
  ImGui::AlignTextToFramePadding();
  ImGui::Text("%d of %d experts kept per layer (%d%%)", state.keep, n_expert, percent);
  ImGui::SameLine();
  ImGui::BeginDisabled(edit.disabled.empty());
  if (button("Restore all experts")) {
    state.keep = n_expert;
    restore = true;
  }
  ImGui::EndDisabled();

  // A criterion matters only while experts are pruned.
  if (restore || state.keep != before_keep ||
      (state.criterion != before_criterion && state.keep < n_expert)) {
    if (apply_plan(view, state, n_expert, edit)) {
      changed = true;
      state.pruning = state.keep < n_expert;
    } else {
      state.keep = before_keep;  // the slider shows what is applied
    }
  }
  if (!state.message.empty()) {
    ImGui::PushTextWrapPos(0);
    if (state.message_is_error)
      ImGui::TextColored(ImVec4(0.95f, 0.4f, 0.35f, 1), "%s", state.message.c_str());
    else
      ImGui::TextDisabled("%s", state.message.c_str());
    ImGui::PopTextWrapPos();
  }
  // The measured effect at a glance, where the slider is (the full table is below).
  const PlaygroundResult* result = view.snapshot.playground.get();
  if (state.keep < n_expert && result && result->effect && result->effect->effect) {
    const moe::InterventionEffect& effect = *result->effect->effect;
    ImGui::TextWrapped(
        "On this prompt: perplexity %.2f (all experts) -> %.2f, next-token KL "
        "%.4f nats",
        effect.base.perplexity, effect.changed.perplexity, effect.next_token_kl);
  }
}

}  // namespace moescope::gui
