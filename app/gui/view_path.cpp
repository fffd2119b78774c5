// Token path: which experts the selected token visited in every MoE layer (layer x expert),
// with the gate weight as intensity and the first choice of each layer joined by a line.
#include <imgui.h>

#include "moe/plot/routing_figures.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct PathPanelState {
  FigureCache path;
};

}  // namespace

extern const ViewInfo path_view;

namespace plot = moe::plot;

void draw_path_panel(ViewContext& view, PathPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  const int n_tokens = static_cast<int>(snapshot.tokens.size());
  ImGui::AlignTextToFramePadding();
  help_marker(path_view.help);
  ImGui::SameLine();
  ImGui::TextUnformatted("Token");
  ImGui::SameLine();
  if (ImGui::ArrowButton("##previous_token", ImGuiDir_Left))
    move_token(view.selection, -1, n_tokens);
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next_token", ImGuiDir_Right)) move_token(view.selection, 1, n_tokens);
  ImGui::SameLine();
  const int token = view.selection.token;
  if (token >= 0 && token < n_tokens) {
    ImGui::Text("%d of %d: \"%s\"%s", token, n_tokens,
                snapshot.tokens[static_cast<size_t>(token)].text.c_str(),
                view.selection.pinned ? "" : "  (following the last token)");
  } else {
    ImGui::TextDisabled("no token");
  }
  const std::string label = token >= 0 && token < static_cast<int>(view.token_labels.size())
                                ? view.token_labels[static_cast<size_t>(token)]
                                : std::string();
  const plot::Figure& figure =
      state.path.get(cache_key({snapshot.version, static_cast<uint64_t>(token)}),
                     [&] { return plot::token_path_figure(snapshot.trace, token, label); });
  // A row per MoE layer, each readable: a deep model scrolls instead of squeezing its layers.
  ImGui::BeginChild("##token_path_scroll", ImVec2(0, 0), false);
  const ImVec2 room = ImGui::GetContentRegionAvail();
  const float height = figure_height_for_rows(
      figure, static_cast<int>(snapshot.trace.moe_layers().size()), room.y);
  const FigureHit hit = draw_figure("##token_path", figure, ImVec2(room.x, height), view.style);
  ImGui::EndChild();
  if (hit.clicked && hit.rect && hit.rect->row >= 0) {
    const auto& layers = snapshot.trace.moe_layers();
    if (hit.rect->row < static_cast<int>(layers.size()))
      view.selection.layer = layers[static_cast<size_t>(hit.rect->row)];
  }
}

namespace {

class PathView final : public View {
public:
  void draw(ViewContext& view) override { draw_path_panel(view, state_); }

private:
  PathPanelState state_;
};

}  // namespace

extern const ViewInfo path_view;
const ViewInfo path_view = {"path", "Token path", "Token path",
       "The route of one token through the whole model: a row per layer, the experts it\n"
       "visited lit up by their gate weight. Dense layers (no experts) are marked as such.",
                            make_view<PathView>};

}  // namespace moescope::gui
