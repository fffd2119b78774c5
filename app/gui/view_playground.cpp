// The playground: change the router and see what happens. Routing rule, top-k override, the
// router knobs (temperature, noise, scoring, selection bias), knocked-out experts and pins edit one RoutingInterventions the worker applies to the session
// (every view then shows the changed model, with a banner saying so); below, the measured effect
// against the unchanged model and the compute counter of the prompt.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "moe/human_units.hpp"
#include "moe/plot/figure.hpp"
#include "moe/plot/routing_figures.hpp"
#include "prune_control.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct PlaygroundPanelState {
  int pin_expert = 0;
  int continuation_tokens = 16;
  std::string error;  // why the last change was refused
  PruneControlState prune;
};

}  // namespace

namespace {

const char* kPlaygroundHelp =
    "Change how the router chooses experts and watch every view follow.\n"
    "- Top-k: how many experts each token uses (the model was trained with its own k).\n"
    "- Knock out: a disabled expert can never be chosen; the router's probability goes to the\n"
    "  others. Click an expert's bar in Router scores or Expert load to toggle it there.\n"
    "- Pin: force the selected token through an expert at the selected layer.\n"
    "- Rules: capacity (each expert takes at most C tokens; the rest are dropped, as in the\n"
    "  Switch Transformer) and expert choice (each expert picks its favourite tokens).\n"
    "The effect is measured, not guessed: both models run the same prompt; KL divergence says\n"
    "how far the next-token prediction moved (0 = not at all), perplexity how much worse (or\n"
    "better) the changed model predicts the prompt itself.";

const char* kComputeHelp =
    "Only the chosen experts run for a token. Active parameters are what one token really\n"
    "touched; a dense model of the same total size would run all of them for every token.";

void balance_row(const char* name, double base, double changed, const char* format) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(name);
  ImGui::TableNextColumn();
  ImGui::Text(format, base);
  ImGui::TableNextColumn();
  ImGui::Text(format, changed);
}

double mean_over_layers(const moe::RoutingStats& stats, double moe::LayerLoad::*field) {
  if (stats.layers.empty()) return 0;
  double sum = 0;
  for (const moe::LayerLoad& layer : stats.layers) sum += layer.*field;
  return sum / static_cast<double>(stats.layers.size());
}

void draw_rule_and_top_k(ViewContext& view, moe::RoutingInterventions& edit, bool& changed) {
  const moe::ModelConfig& config = view.snapshot.model->config;
  int rule = static_cast<int>(edit.rule);
  ImGui::TextUnformatted("Routing rule");
  ImGui::SameLine();
  changed |= ImGui::RadioButton("top-k (the model's own)", &rule, 0);
  ImGui::SameLine();
  changed |= ImGui::RadioButton("capacity", &rule, 1);
  ImGui::SameLine();
  changed |= ImGui::RadioButton("expert choice", &rule, 2);
  edit.rule = static_cast<moe::RoutingRule>(rule);
  if (edit.rule == moe::RoutingRule::Capacity) {
    float factor = static_cast<float>(edit.capacity_factor);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (ImGui::SliderFloat("capacity factor", &factor, 0.25f, 4.0f, "%.2f")) {
      edit.capacity_factor = factor;
      changed = true;
    }
    ImGui::SameLine();
    help_marker("Each expert accepts at most ceil(factor x tokens x k / experts) tokens;\n"
                "choices beyond that are dropped (shown as dropped in the views).");
  }
  int top_k = edit.top_k;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
  const std::string format =
      top_k == 0 ? "model's own (" + std::to_string(config.n_expert_used) + ")" : "%d";
  if (ImGui::SliderInt("top-k at every layer", &top_k, 0, config.n_expert, format.c_str())) {
    edit.top_k = top_k;
    changed = true;
  }
}

const char* kKnobsHelp =
    "The router turns each token's logits (one number per expert) into scores, then picks the\n"
    "top-k experts. These knobs change that step in the real model:\n"
    "- Temperature: logits are divided by T. Below 1 the best expert takes almost all the\n"
    "  weight; above 1 the weights even out.\n"
    "- Noise (noisy top-k, Shazeer et al. 2017): random numbers added to the logits, so close\n"
    "  calls can go either way. The same seed gives the same noise every time.\n"
    "- Scoring: softmax makes the scores compete (they sum to 1); sigmoid scores each expert\n"
    "  on its own, as DeepSeek-V3 does.\n"
    "- Bias (DeepSeek-V3): added to an expert's score only to decide who is chosen; the chosen\n"
    "  experts' weights still come from the unbiased scores. Raise it for an idle expert.";

void draw_router_knobs(ViewContext& view, moe::RoutingInterventions& edit, bool& changed) {
  const moe::ModelConfig& config = view.snapshot.model->config;
  const float width = ImGui::GetFontSize() * 10;
  ImGui::TextUnformatted("Router knobs");
  ImGui::SameLine();
  help_marker(kKnobsHelp);
  ImGui::PushTextWrapPos(0);
  ImGui::TextDisabled("(logits + noise) / temperature -> scores (softmax or sigmoid) -> + bias "
                      "-> top-k; the weights use the scores without the bias.");
  ImGui::PopTextWrapPos();

  float temperature = static_cast<float>(edit.temperature);
  ImGui::SetNextItemWidth(width);
  if (ImGui::SliderFloat("router temperature", &temperature, 0.05f, 5.0f, "%.2f",
                         ImGuiSliderFlags_Logarithmic)) {
    edit.temperature = std::max(temperature, 0.01f);
    changed = true;
  }
  ImGui::SameLine();
  help_marker("Router logits divided by T. 1 = the model as trained.");

  float noise = static_cast<float>(edit.noise_scale);
  ImGui::SetNextItemWidth(width);
  if (ImGui::SliderFloat("router noise", &noise, 0.0f, 3.0f, "%.2f")) {
    edit.noise_scale = std::max(noise, 0.0f);
    changed = true;
  }
  ImGui::SameLine();
  int seed = static_cast<int>(edit.noise_seed);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  if (ImGui::InputInt("noise seed", &seed)) {
    edit.noise_seed = static_cast<uint64_t>(std::max(seed, 0));
    changed = true;
  }
  ImGui::SameLine();
  help_marker("Gaussian noise of this size added to every logit (0 = none). Same seed, same\n"
              "noise, on the CPU and the GPU alike.");

  int scoring = static_cast<int>(edit.scoring);
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("router scoring");
  ImGui::SameLine();
  const std::string own = config.gating == moe::GatingFunction::Sigmoid
                              ? "model's own (sigmoid)"
                              : "model's own (softmax)";
  changed |= ImGui::RadioButton(own.c_str(), &scoring, 0);
  ImGui::SameLine();
  changed |= ImGui::RadioButton("softmax", &scoring, 1);
  ImGui::SameLine();
  changed |= ImGui::RadioButton("sigmoid", &scoring, 2);
  edit.scoring = static_cast<moe::Scoring>(scoring);

  ImGui::TextUnformatted("expert bias, for choosing only (not for the weight)");
  ImGui::SameLine();
  help_marker("Added to the expert's score when the top-k are picked, at every layer.\n"
              "Positive: chosen more often; negative: less often. 0 = none.");
  const int columns = std::min(config.n_expert, 64);
  if (columns <= 0 ||
      !ImGui::BeginTable("##bias", columns, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX,
                         ImVec2(0, ImGui::GetFrameHeightWithSpacing() * 2.3f)))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (int e = 0; e < columns; ++e) ImGui::TableSetupColumn(moe::plot::expert_label(e).c_str());
  ImGui::TableHeadersRow();
  ImGui::TableNextRow();
  for (int e = 0; e < columns; ++e) {
    ImGui::TableNextColumn();
    const auto found = edit.expert_bias.find(e);
    float bias = found == edit.expert_bias.end() ? 0.0f : static_cast<float>(found->second);
    ImGui::PushID(e);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 3.6f);
    if (ImGui::DragFloat("##bias", &bias, 0.005f, -1.0f, 1.0f, "%+.2f")) {
      if (bias == 0.0f) edit.expert_bias.erase(e);
      else edit.expert_bias[e] = bias;
      changed = true;
    }
    ImGui::PopID();
  }
  ImGui::EndTable();
}

void draw_knockouts(ViewContext& view, moe::RoutingInterventions& edit, bool& changed) {
  const moe::ModelConfig& config = view.snapshot.model->config;
  const std::vector<int>& layers = view.snapshot.trace.moe_layers();
  ImGui::TextUnformatted("Knock out experts");
  ImGui::SameLine();
  help_marker("A ticked box disables that expert at that layer (the first row: at every layer).");
  // ImGui tables hold at most 64 columns: the layer column and the first 63 experts.
  const int columns = std::min(config.n_expert, 63) + 1;
  if (config.n_expert > 63) {
    ImGui::SameLine();
    ImGui::TextDisabled("(the first 63 of %d experts)", config.n_expert);
  }
  if (!ImGui::BeginTable("##knockouts", columns,
                         ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX |
                             ImGuiTableFlags_BordersInnerV,
                         ImVec2(0, ImGui::GetFrameHeightWithSpacing() *
                                       static_cast<float>(std::min<size_t>(layers.size() + 2, 9)))))
    return;
  ImGui::TableSetupScrollFreeze(1, 1);
  ImGui::TableSetupColumn("layer");
  for (int e = 0; e + 1 < columns; ++e)
    ImGui::TableSetupColumn(moe::plot::expert_label(e).c_str());
  ImGui::TableHeadersRow();
  std::vector<int> rows = {moe::kAllLayers};
  rows.insert(rows.end(), layers.begin(), layers.end());
  for (int layer : rows) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    if (layer == moe::kAllLayers) ImGui::TextUnformatted("all");
    else ImGui::Text("L%d", layer);
    for (int e = 0; e + 1 < columns; ++e) {
      ImGui::TableNextColumn();
      const moe::DisabledExpert entry{layer, e};
      auto found = std::find(edit.disabled.begin(), edit.disabled.end(), entry);
      bool off = found != edit.disabled.end();
      ImGui::PushID(layer * 1000 + e);
      ImGui::PushStyleColor(ImGuiCol_CheckMark,
                            ImGui::ColorConvertU32ToFloat4(to_imgui(moe::plot::expert_color(e))));
      if (ImGui::Checkbox("##off", &off)) {
        if (off) edit.disabled.push_back(entry);
        else edit.disabled.erase(found);
        changed = true;
      }
      ImGui::PopStyleColor();
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

void draw_pins(ViewContext& view, moe::RoutingInterventions& edit, PlaygroundPanelState& state,
               bool& changed) {
  const moe::ModelConfig& config = view.snapshot.model->config;
  const Selection& selection = view.selection;
  ImGui::TextUnformatted("Pin");
  ImGui::SameLine();
  const bool can_pin = selection.token >= 0 && selection.layer >= 0;
  ImGui::Text("token %d at layer %d to expert", selection.token, selection.layer);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
  ImGui::SliderInt("##pin_expert", &state.pin_expert, 0, config.n_expert - 1, "E%d");
  ImGui::SameLine();
  ImGui::BeginDisabled(!can_pin);
  if (ImGui::Button("Pin")) {
    const moe::ExpertPin pin{selection.token, selection.layer, state.pin_expert};
    if (std::find(edit.pins.begin(), edit.pins.end(), pin) == edit.pins.end()) {
      edit.pins.push_back(pin);
      changed = true;
    }
  }
  ImGui::EndDisabled();
  for (size_t i = 0; i < edit.pins.size(); ++i) {
    const moe::ExpertPin& pin = edit.pins[i];
    ImGui::PushID(static_cast<int>(i));
    ImGui::BulletText("token %d at layer %d -> E%d", pin.position, pin.layer, pin.expert);
    ImGui::SameLine();
    if (ImGui::SmallButton("remove")) {
      edit.pins.erase(edit.pins.begin() + static_cast<long>(i));
      changed = true;
      ImGui::PopID();
      break;
    }
    ImGui::PopID();
  }
}

void draw_effect(ViewContext& view, PlaygroundPanelState& state) {
  const PlaygroundResult* result = view.snapshot.playground.get();
  if (view.snapshot.trace.interventions().empty()) {
    ImGui::TextDisabled("No intervention is on: the model routes as it was trained.");
    return;
  }
  if (!result || !result->effect || !result->effect->effect) {
    ImGui::TextDisabled("Measuring the effect\xE2\x80\xA6");
    return;
  }
  const EffectView& effect_view = *result->effect;
  const moe::InterventionEffect& effect = *effect_view.effect;
  ImGui::Text("Next-token KL divergence %.4f nats   mean over the prompt %.4f   top-1 changed at "
              "%.0f%% of positions",
              effect.next_token_kl, effect.mean_kl, 100 * effect.top1_changed_share);
  ImGui::SameLine();
  help_marker("KL(unchanged || changed): how much information is lost predicting with the\n"
              "changed model what the unchanged one predicts. 0 = identical predictions.");
  if (ImGui::BeginTable("##effect", 3, ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingFixedFit)) {
    ImGui::TableSetupColumn("");
    ImGui::TableSetupColumn("unchanged");
    ImGui::TableSetupColumn("changed");
    ImGui::TableHeadersRow();
    balance_row("perplexity of the prompt", effect.base.perplexity, effect.changed.perplexity,
                "%.2f");
    balance_row("load CV (mean over layers)", mean_over_layers(effect.base.stats, &moe::LayerLoad::cv),
                mean_over_layers(effect.changed.stats, &moe::LayerLoad::cv), "%.3f");
    balance_row("Switch aux loss (1 = balanced)",
                mean_over_layers(effect.base.stats, &moe::LayerLoad::switch_aux_loss),
                mean_over_layers(effect.changed.stats, &moe::LayerLoad::switch_aux_loss), "%.3f");
    balance_row("experts never used", mean_over_layers(effect.base.stats, &moe::LayerLoad::unused_share),
                mean_over_layers(effect.changed.stats, &moe::LayerLoad::unused_share), "%.2f");
    ImGui::EndTable();
  }
  ImGui::Spacing();
  ImGui::TextUnformatted("Next token after the prompt");
  if (ImGui::BeginTable("##next", 3, ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingFixedFit)) {
    ImGui::TableSetupColumn("token");
    ImGui::TableSetupColumn("unchanged");
    ImGui::TableSetupColumn("changed");
    ImGui::TableHeadersRow();
    const float bar = ImGui::GetFontSize() * 8;
    for (const NextTokenRow& row : effect_view.next_tokens) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(row.text.c_str());
      for (float p : {row.base, row.changed}) {
        ImGui::TableNextColumn();
        char text[16];
        std::snprintf(text, sizeof text, "%.3f", p);
        ImGui::ProgressBar(p, ImVec2(bar, 0), text);
      }
    }
    ImGui::EndTable();
  }
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  ImGui::SliderInt("tokens", &state.continuation_tokens, 4, 64);
  ImGui::SameLine();
  if (ImGui::Button("Continue with both models")) {
    moe::SamplingOptions sampling;
    sampling.temperature = view.settings.temperature;
    sampling.top_p = view.settings.top_p;
    sampling.seed = view.settings.seed;
    view.worker.compare_continuations(state.continuation_tokens, sampling);
  }
  ImGui::SameLine();
  help_marker("Both models continue the prompt with the same sampling settings and seed, so\n"
              "any difference comes from the routing alone.");
  if (!effect_view.base_continuation.empty() || !effect_view.changed_continuation.empty()) {
    if (ImGui::BeginTable("##continuations", 2, ImGuiTableFlags_BordersInnerV)) {
      ImGui::TableSetupColumn("unchanged");
      ImGui::TableSetupColumn("changed");
      ImGui::TableHeadersRow();
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextWrapped("%s", effect_view.base_continuation.c_str());
      ImGui::TableNextColumn();
      ImGui::TextWrapped("%s", effect_view.changed_continuation.c_str());
      ImGui::EndTable();
    }
  }
}

void draw_compute(const ViewContext& view) {
  const PlaygroundResult* result = view.snapshot.playground.get();
  ImGui::TextUnformatted("Compute counter");
  ImGui::SameLine();
  help_marker(kComputeHelp);
  if (!result || !result->compute) {
    ImGui::TextDisabled("Type a prompt.");
    return;
  }
  const moe::ComputeCount& count = *result->compute;
  ImGui::Text("%d tokens: %.2f experts per token and layer; %s of %s parameters active per token "
              "(%.1f%%)",
              count.tokens, count.mean_active_experts,
              moe::human_count(count.active_parameters_per_token).c_str(),
              moe::human_count(static_cast<double>(count.total_parameters)).c_str(),
              count.total_parameters
                  ? 100 * count.active_parameters_per_token / static_cast<double>(count.total_parameters)
                  : 0.0);
  ImGui::Text("FLOPs for the prompt: %s as routed vs %s for a dense model of the same size (%.1fx "
              "less)",
              moe::human_count(count.moe_flops).c_str(), moe::human_count(count.dense_flops).c_str(),
              count.moe_flops > 0 ? count.dense_flops / count.moe_flops : 0.0);
}

}  // namespace

void draw_playground_panel(ViewContext& view, PlaygroundPanelState& state) {
  if (!view.snapshot.model) {
    ImGui::TextDisabled("No model is open.");
    return;
  }
  ImGui::TextUnformatted("Change the router and measure what happens");
  ImGui::SameLine();
  help_marker(kPlaygroundHelp);
  ImGui::SameLine();
  if (ImGui::Button("Reset to the model's own routing")) {
    view.actions.set_interventions(moe::RoutingInterventions{}, state.error);
  }
  ImGui::BeginChild("##playground", ImVec2(0, 0), false);
  moe::RoutingInterventions edit = view.actions.interventions();
  bool changed = false;
  draw_prune_control(view, state.prune, edit, changed);
  ImGui::Separator();
  draw_rule_and_top_k(view, edit, changed);
  draw_router_knobs(view, edit, changed);
  draw_knockouts(view, edit, changed);
  draw_pins(view, edit, state, changed);
  if (changed) view.actions.set_interventions(edit, state.error);
  if (!state.error.empty()) ImGui::TextColored(ImVec4(0.95f, 0.4f, 0.35f, 1), "%s", state.error.c_str());
  ImGui::Separator();
  draw_effect(view, state);
  ImGui::Separator();
  draw_compute(view);
  ImGui::EndChild();
}

namespace {

class PlaygroundView final : public View {
public:
  void draw(ViewContext& view) override { draw_playground_panel(view, state_); }

private:
  PlaygroundPanelState state_;
};

}  // namespace

extern const ViewInfo playground_view;
const ViewInfo playground_view = {"playground", "Playground", "Playground",
       "Change the router and measure the effect: fewer experts per token, knock an expert\n"
       "out, force a token through an expert, another routing rule, or turn the router's knobs\n"
       "(temperature, noise, softmax or sigmoid scores, a selection bias), or prune the\n"
       "experts to a share of them. The changed model is compared with the unchanged one on\n"
       "the same prompt.",
                            make_view<PlaygroundView>, ProfileUse::Live};

}  // namespace moescope::gui
