// Router scores: for the selected token and layer, the router's probability for every expert
// with the top-k marked and their gate weights; below, the same for every token at once
// (tokens x experts). Clicking a row of the heatmap selects that token; clicking an expert's bar
// knocks that expert out at the layer (see the Playground).
#include <imgui.h>

#include <algorithm>

#include "moe/plot/routing_figures.hpp"
#include "side_by_side.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct RouterPanelState {
  FigureCache scores, heatmap;
  FigurePairCache scores_ab, heatmap_ab;  // A | B
  float scores_share = 0.5f;
  int shown_figure = 0;  // when only one fits: 0 the token's scores, 1 every token's
};

}  // namespace

extern const ViewInfo router_view;

namespace plot = moe::plot;

namespace {

// The selected token's scores, `height` pixels tall; clicking a bar knocks the expert out.
void draw_scores(ViewContext& view, RouterPanelState& state, const std::string& label,
                 float height) {
  const Snapshot& snapshot = view.snapshot;
  const Selection& selection = view.selection;
  const plot::Figure& scores = state.scores.get(
      cache_key({snapshot.version, static_cast<uint64_t>(selection.layer),
                 static_cast<uint64_t>(selection.token)}),
      [&] {
        return plot::router_scores_figure(snapshot.trace, selection.token, selection.layer, label);
      });
  const FigureHit hit = draw_figure(
      "##router_scores", scores, ImVec2(ImGui::GetContentRegionAvail().x, height), view.style);
  if (hit.clicked && hit.rect && hit.rect->column >= 0)
    view.actions.toggle_knockout(selection.layer, hit.rect->column);
}

// Every token's scores. The heatmap keeps rows readable: with many tokens it scrolls instead
// of squeezing. Clicking a row selects that token.
void draw_heatmap(ViewContext& view, RouterPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  const Selection& selection = view.selection;
  ImGui::BeginChild("##router_heatmap", ImVec2(0, 0), false);
  const plot::Figure& heatmap =
      state.heatmap.get(cache_key({snapshot.version, static_cast<uint64_t>(selection.layer),
                                   static_cast<uint64_t>(selection.token),
                                   static_cast<uint64_t>(view.settings.word_view)}),
                        [&] {
                          return plot::router_heatmap_figure(
                              snapshot.trace, selection.layer, view.token_labels, selection.token,
                              words_of(view, snapshot.tokens));
                        });
  const float height =
      figure_height_for_rows(heatmap, static_cast<int>(heatmap.y.max - heatmap.y.min),
                             ImGui::GetContentRegionAvail().y);
  const FigureHit hit = draw_figure("##router_heatmap_figure", heatmap,
                                    ImVec2(ImGui::GetContentRegionAvail().x, height), view.style);
  if (hit.clicked && hit.rect && hit.rect->row >= 0)
    click_token(view.selection, hit.rect->row, static_cast<int>(snapshot.tokens.size()));
  ImGui::EndChild();
}

// A | B: both prompts' scores and heatmaps on shared scales. B shows its token at the selected
// position (its last one when B is shorter). B's labels are made only when a figure is rebuilt.
void draw_router_beside(ViewContext& view, RouterPanelState& state, const PromptRun& b,
                        const std::string& label, const FigureStack& stack) {
  const Snapshot& snapshot = view.snapshot;
  const Selection& selection = view.selection;
  const int token_b = std::clamp(selection.token, 0, static_cast<int>(b.tokens.size()) - 1);
  const uint64_t key =
      cache_key({snapshot.version, static_cast<uint64_t>(selection.layer),
                 static_cast<uint64_t>(selection.token), reinterpret_cast<uintptr_t>(&b),
                 static_cast<uint64_t>(view.settings.word_view)});
  if (stack.first > 0) {
    const auto& scores = state.scores_ab.get(
        key,
        [&] {
          return plot::router_scores_figure(snapshot.trace, selection.token, selection.layer,
                                            label);
        },
        [&] {
          return plot::router_scores_figure(
              b.trace, token_b, selection.layer,
              figure_token_labels(b.tokens)[static_cast<size_t>(token_b)]);
        });
    const auto hits = draw_figure_pair(
        "##router_scores_ab", scores, ImVec2(ImGui::GetContentRegionAvail().x, stack.first),
        view.style);
    if (hits.first.clicked && hits.first.rect && hits.first.rect->column >= 0)
      view.actions.toggle_knockout(selection.layer, hits.first.rect->column);
  }
  if (stack.second <= 0) return;

  ImGui::BeginChild("##router_heatmap_ab", ImVec2(0, 0), false);
  const auto& heatmaps = state.heatmap_ab.get(
      key,
      [&] {
        return plot::router_heatmap_figure(snapshot.trace, selection.layer, view.token_labels,
                                           selection.token, words_of(view, snapshot.tokens));
      },
      [&] {
        return plot::router_heatmap_figure(b.trace, selection.layer,
                                           figure_token_labels(b.tokens), token_b,
                                           words_of(view, b.tokens));
      });
  const float room = ImGui::GetContentRegionAvail().y;
  const auto height_of = [&](const plot::Figure& figure) {
    return figure_height_for_rows(figure, static_cast<int>(figure.y.max - figure.y.min), room);
  };
  const float height = std::max(height_of(heatmaps.first), height_of(heatmaps.second));
  const auto hits = draw_figure_pair("##router_heatmap_ab_figures", heatmaps,
                                     ImVec2(ImGui::GetContentRegionAvail().x, height), view.style);
  if (hits.first.clicked && hits.first.rect && hits.first.rect->row >= 0)
    click_token(view.selection, hits.first.rect->row, static_cast<int>(snapshot.tokens.size()));
  ImGui::EndChild();
}

}  // namespace

void draw_router_panel(ViewContext& view, RouterPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  const Selection& selection = view.selection;
  layer_selector("router_layer", view.selection, snapshot.trace.moe_layers());
  ImGui::SameLine();
  help_marker(router_view.help);
  ImGui::SameLine();
  ImGui::TextDisabled("token %d", selection.token);
  if (snapshot.model && snapshot.model->config.n_expert_shared > 0) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.95f, 0.65f, 0.25f, 1), "+ %d shared expert%s always on (not routed)",
                       snapshot.model->config.n_expert_shared,
                       snapshot.model->config.n_expert_shared == 1 ? "" : "s");
  }

  const std::string label =
      selection.token >= 0 && selection.token < static_cast<int>(view.token_labels.size())
          ? view.token_labels[static_cast<size_t>(selection.token)]
          : std::string();
  const FigureStack stack =
      stack_two_figures("This token", "All tokens", state.shown_figure, state.scores_share);
  if (const PromptRun* b = prompt_b_beside(view)) {
    draw_router_beside(view, state, *b, label, stack);
    return;
  }
  if (stack.first > 0) draw_scores(view, state, label, stack.first);
  if (stack.second > 0) draw_heatmap(view, state);
}

namespace {

class RouterView final : public View {
public:
  void draw(ViewContext& view) override { draw_router_panel(view, state_); }

private:
  RouterPanelState state_;
};

}  // namespace

extern const ViewInfo router_view;
const ViewInfo router_view = {"router", "Router scores", "Router scores",
       "For the selected token and layer: the router's probability for every expert. The\n"
       "outlined bars are the top-k experts that really run; their gate weights (the numbers)\n"
       "say how much each contributes to the output. Crossed out: chosen, but dropped because\n"
       "the expert was full (capacity routing, Playground). Below, the same for every token at\n"
       "once: a row per token, a column per expert.",
                            make_view<RouterView>};

}  // namespace moescope::gui
