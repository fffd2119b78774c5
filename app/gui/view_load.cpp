// Expert load: how many tokens each expert received at the selected layer (or the gate mass it
// got), against the uniform load, with the balance figures; and the layer x expert utilization
// of the whole prompt. Clicking a heatmap row selects that layer.
#include <imgui.h>

#include <algorithm>

#include "moe/plot/routing_figures.hpp"
#include "moe/routing_stats.hpp"
#include "profile_source.hpp"
#include "side_by_side.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct LoadPanelState {
  FigureCache histogram, heatmap;
  FigurePairCache histogram_ab, heatmap_ab;  // A | B
  bool show_loss = false;  // the balancing loss term by term instead of the histogram
  int shown_figure = 0;    // when only one fits: 0 the layer's histogram, 1 every layer's
};

}  // namespace

namespace plot = moe::plot;

// The Switch Transformer balancing loss of the layer, computed in front of the class: each
// expert's share of the routed tokens f, its mean router probability P, their product, and the
// sum times E, with CV and the unused share beside it.
void draw_switch_loss(const moe::LayerLoad& load, const Snapshot& snapshot) {
  const moe::SwitchLoss loss = moe::switch_loss(load);
  const size_t n_expert = loss.terms.size();
  ImGui::TextWrapped("Switch Transformer balancing loss = E \xC2\xB7 \xCE\xA3 f \xC2\xB7 P over "
                     "the experts (f: share of the routed tokens, P: mean router probability; 1 "
                     "when every expert gets the same)");
  if (snapshot.tokens.size() < 2)
    ImGui::TextDisabled("Only one token: type a prompt to see the balance.");
  const ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchSame;
  const float table_height =
      std::max(ImGui::GetTextLineHeightWithSpacing() * 4,
               ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing() * 3);
  if (ImGui::BeginTable("##switch_loss", 5, flags, ImVec2(0, table_height))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* column : {"expert", "tokens", "f (share)", "P (mean prob.)", "f \xC2\xB7 P"})
      ImGui::TableSetupColumn(column);
    ImGui::TableHeadersRow();
    for (size_t e = 0; e < n_expert; ++e) {
      const moe::SwitchLossTerm& term = loss.terms[e];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      expert_chip(static_cast<int>(e));
      ImGui::TableNextColumn();
      ImGui::Text("%lld", static_cast<long long>(load.token_counts[e]));
      ImGui::TableNextColumn();
      ImGui::Text("%.3f", term.f);
      ImGui::TableNextColumn();
      ImGui::Text("%.3f", term.p);
      ImGui::TableNextColumn();
      ImGui::Text("%.4f", term.f * term.p);
    }
    ImGui::EndTable();
  }
  ImGui::Text("\xCE\xA3 f \xC2\xB7 P = %.4f     E \xC2\xB7 \xCE\xA3 = %zu \xC3\x97 %.4f = %.3f",
              loss.sum_fp, n_expert, loss.sum_fp, loss.loss);
  ImGui::TextDisabled("CV %.2f (0 = even)   unused experts %.0f%%", load.cv,
                      100.0 * load.unused_share);
}

void draw_load_panel(ViewContext& view, LoadPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  const std::vector<int>& moe_layers = snapshot.trace.moe_layers();
  layer_selector("load_layer", view.selection, moe_layers);
  ImGui::SameLine(0, ImGui::GetFontSize() * 2);
  int measure = view.settings.load_as_gate_mass ? 1 : 0;
  ImGui::RadioButton("tokens", &measure, 0);
  ImGui::SameLine();
  ImGui::RadioButton("gate mass", &measure, 1);
  view.settings.load_as_gate_mass = measure == 1;
  ImGui::SameLine();
  help_marker(
      "Tokens: how many tokens chose the expert among their top-k. Gate mass: the sum of the "
      "weights the expert's output was mixed in with. CV is the standard deviation of the loads "
      "over their mean (0 = perfectly even); the Switch Transformer auxiliary loss is 1 for "
      "uniform routing and grows as load concentrates.\n\nClick an expert's bar to knock it out at "
      "this layer and see what the model does without it (the Playground tab undoes it).");

  ImGui::SameLine(0, ImGui::GetFontSize() * 2);
  checkbox("the loss, step by step", &state.show_loss);

  const int moe_index = moe_index_of(view.selection, moe_layers);
  if (state.show_loss && snapshot.profile) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(profile_has_no_tokens(*snapshot.profile).c_str());
    ImGui::TextDisabled("The loss needs P, each expert's mean router probability, which a profile "
                        "does not keep: close the profile to compute the loss on the prompt.");
    ImGui::PopTextWrapPos();
    return;
  }
  if (state.show_loss) {
    if (moe_index >= 0 && moe_index < static_cast<int>(snapshot.stats.layers.size()))
      draw_switch_loss(snapshot.stats.layers[static_cast<size_t>(moe_index)], snapshot);
    return;
  }
  const FigureStack stack =
      stack_two_figures("This layer", "All layers", state.shown_figure, 0.5f);
  const plot::LoadMeasure load_measure =
      measure == 1 ? plot::LoadMeasure::GateMass : plot::LoadMeasure::TokenCount;
  const auto histogram_of = [&](const moe::RoutingStats& stats) {
    return [&, of = &stats] {
      return with_profile_note(plot::expert_load_figure(*of, moe_index, load_measure), snapshot);
    };
  };
  const auto heatmap_of = [&](const moe::RoutingStats& stats) {
    return [&, of = &stats] {
      return with_profile_note(plot::load_heatmap_figure(*of, snapshot.trace.top_k()), snapshot);
    };
  };
  const uint64_t histogram_key = cache_key(
      {snapshot.version, static_cast<uint64_t>(moe_index), static_cast<uint64_t>(measure)});
  const float width = ImGui::GetContentRegionAvail().x;
  const PromptRun* b = prompt_b_beside(view);  // A | B: one axis and one colour scale
  FigureHit bar_hit, hit;
  if (stack.first > 0) {
    bar_hit = b ? draw_figure_pair("##load_histogram_ab",
                                   state.histogram_ab.get(histogram_key,
                                                          histogram_of(snapshot.stats),
                                                          histogram_of(b->stats)),
                                   ImVec2(width, stack.first), view.style)
                      .first
                : draw_figure("##load_histogram",
                              state.histogram.get(histogram_key, histogram_of(snapshot.stats)),
                              ImVec2(width, stack.first), view.style);
  }
  if (stack.second > 0) {
    const ImVec2 room = ImGui::GetContentRegionAvail();
    hit = b ? draw_figure_pair("##load_heatmap_ab",
                               state.heatmap_ab.get(cache_key({snapshot.version}),
                                                    heatmap_of(snapshot.stats),
                                                    heatmap_of(b->stats)),
                               room, view.style)
                  .first
            : draw_figure("##load_heatmap",
                          state.heatmap.get(cache_key({snapshot.version}),
                                            heatmap_of(snapshot.stats)),
                          room, view.style);
  }
  // Clicking a bar knocks the expert out at this layer (the Playground tab lists and undoes it).
  if (bar_hit.clicked && bar_hit.rect && bar_hit.rect->column >= 0)
    view.actions.toggle_knockout(view.selection.layer, bar_hit.rect->column);
  if (hit.clicked && hit.rect && hit.rect->row >= 0 &&
      hit.rect->row < static_cast<int>(moe_layers.size())) {
    view.selection.layer = moe_layers[static_cast<size_t>(hit.rect->row)];
  }
}

namespace {

class LoadView final : public View {
public:
  void draw(ViewContext& view) override { draw_load_panel(view, state_); }

private:
  LoadPanelState state_;
};

}  // namespace

extern const ViewInfo load_view;
const ViewInfo load_view = {"load", "Expert load", "Expert load",
       "How many tokens each expert got at a layer. The dashed line is what perfectly even\n"
       "routing would give. Training adds a balancing loss so that no expert sits idle and none\n"
       "is overloaded; CV and the Switch auxiliary loss measure how even the load is.",
                            make_view<LoadView>, ProfileUse::Pooled};

}  // namespace moescope::gui
