// Co-activation: which experts are chosen together for the same token at the selected layer;
// and transitions: where tokens routed to an expert at this layer go at the next MoE layer.
#include <imgui.h>

#include <algorithm>

#include "moe/plot/routing_figures.hpp"
#include "profile_source.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct CoactivationPanelState {
  FigureCache coactivation, transitions;
};

}  // namespace

extern const ViewInfo coactivation_view;

namespace plot = moe::plot;

void draw_coactivation_panel(ViewContext& view, CoactivationPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  const std::vector<int>& moe_layers = snapshot.trace.moe_layers();
  layer_selector("coactivation_layer", view.selection, moe_layers);
  ImGui::SameLine(0, ImGui::GetFontSize() * 2);
  ImGui::Checkbox("transitions as P(next | expert)", &view.settings.transitions_normalized);
  ImGui::SameLine();
  help_marker(coactivation_view.help);

  const int moe_index = moe_index_of(view.selection, moe_layers);
  // The last MoE layer has no next layer: show the transition into it instead.
  const int transition_index = std::min(moe_index, static_cast<int>(moe_layers.size()) - 2);
  const ImVec2 available = ImGui::GetContentRegionAvail();
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const bool side_by_side = available.x > available.y * 1.3f;
  const ImVec2 size =
      side_by_side ? ImVec2((available.x - spacing) / 2, available.y)
                   : ImVec2(available.x, (available.y - ImGui::GetStyle().ItemSpacing.y) / 2);
  const plot::Figure& coactivation =
      state.coactivation.get(cache_key({snapshot.version, static_cast<uint64_t>(moe_index)}),
                             [&] {
                               return with_profile_note(
                                   plot::coactivation_figure(snapshot.stats, moe_index), snapshot);
                             });
  draw_figure("##coactivation", coactivation, size, view.style);
  if (side_by_side) ImGui::SameLine();
  const bool normalized = view.settings.transitions_normalized;
  const plot::Figure& transitions = state.transitions.get(
      cache_key({snapshot.version, static_cast<uint64_t>(transition_index),
                 static_cast<uint64_t>(normalized)}),
      [&] {
        return with_profile_note(
            plot::transitions_figure(snapshot.stats, transition_index, normalized), snapshot);
      });
  draw_figure("##transitions", transitions, size, view.style);
}

namespace {

class CoactivationView final : public View {
public:
  void draw(ViewContext& view) override { draw_coactivation_panel(view, state_); }

private:
  CoactivationPanelState state_;
};

}  // namespace

extern const ViewInfo coactivation_view;
const ViewInfo coactivation_view = {"coactivation", "Co-activation", "Co-activation and transitions",
       "Left: how often two experts were chosen together for the same token. Right: when a\n"
       "token used expert A at this layer, which experts it used at the next layer.",
                            make_view<CoactivationView>, ProfileUse::Pooled};

}  // namespace moescope::gui
