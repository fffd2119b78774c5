// Expert load: how many tokens each expert received at the selected layer (or the gate mass it
// got), against the uniform load, with the balance figures; and the layer x expert utilization
// of the whole prompt. Clicking a heatmap row selects that layer.
#include <imgui.h>

#include <algorithm>

#include "moe/plot/routing_figures.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct LoadPanelState {
  FigureCache histogram, heatmap;
};

}  // namespace

namespace plot = moe::plot;

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

  const int moe_index = moe_index_of(view.selection, moe_layers);
  const ImVec2 available = ImGui::GetContentRegionAvail();
  const float histogram_height = std::max(ImGui::GetTextLineHeight() * 12, available.y * 0.5f);
  const plot::Figure& histogram = state.histogram.get(
      cache_key(
          {snapshot.version, static_cast<uint64_t>(moe_index), static_cast<uint64_t>(measure)}),
      [&] {
        return plot::expert_load_figure(
            snapshot.stats, moe_index,
            measure == 1 ? plot::LoadMeasure::GateMass : plot::LoadMeasure::TokenCount);
      });
  const FigureHit bar_hit =
      draw_figure("##load_histogram", histogram, ImVec2(available.x, histogram_height), view.style);
  // Clicking a bar knocks the expert out at this layer (the Playground tab lists and undoes it).
  if (bar_hit.clicked && bar_hit.rect && bar_hit.rect->column >= 0)
    view.actions.toggle_knockout(view.selection.layer, bar_hit.rect->column);

  const plot::Figure& heatmap = state.heatmap.get(cache_key({snapshot.version}), [&] {
    return plot::load_heatmap_figure(snapshot.stats, snapshot.trace.top_k());
  });
  const FigureHit hit =
      draw_figure("##load_heatmap", heatmap, ImGui::GetContentRegionAvail(), view.style);
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
                            make_view<LoadView>};

}  // namespace moescope::gui
