#pragma once
// The views. Each panel is one function in its own file (panel_<name>.cpp) that draws from the
// latest snapshot plus the UI state it owns; none of them computes routing statistics (they come
// with the snapshot) or calls the model (the worker does).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "example_prompts.hpp"
#include "moe/interventions.hpp"
#include "figure_view.hpp"
#include "selection.hpp"
#include "settings.hpp"
#include "widgets.hpp"
#include "worker.hpp"

namespace moescope::gui {

// What every panel gets each frame.
struct ViewContext {
  const Snapshot& snapshot;
  Selection& selection;
  Settings& settings;
  Worker& worker;
  const FigureStyle& style;
  const std::vector<std::string>& token_labels;  // short display text per token, for figures
  // The routing interventions the user asked for (the worker applies them; the snapshot's
  // trace says which were applied to what it shows).
  moe::RoutingInterventions& interventions;
};

struct PromptPanelState {
  std::string text;  // the prompt box (the worker gets a copy on every edit)
  std::vector<ExamplePrompt> examples;
  int example_group = 0;
  bool focus_prompt = true;
};
void draw_prompt_panel(ViewContext& view, PromptPanelState& state);

struct TokenStripState {
  bool show_legend = true;
  std::vector<ImVec4>
      token_boxes;  // screen rectangles of the tokens drawn last frame (x0, y0, x1, y1)
};
void draw_token_strip(ViewContext& view, TokenStripState& state);

struct RouterPanelState {
  FigureCache scores, heatmap;
  float scores_share = 0.5f;
};
void draw_router_panel(ViewContext& view, RouterPanelState& state);

struct PathPanelState {
  FigureCache path;
};
void draw_path_panel(ViewContext& view, PathPanelState& state);

struct LoadPanelState {
  FigureCache histogram, heatmap;
};
void draw_load_panel(ViewContext& view, LoadPanelState& state);

struct CoactivationPanelState {
  FigureCache coactivation, transitions;
};
void draw_coactivation_panel(ViewContext& view, CoactivationPanelState& state);

struct DomainsPanelState {
  std::filesystem::path prompts_folder;  // assets/prompts: one <domain>.txt per domain
  uint64_t asked_generation = 0;  // the model generation a computation was last asked for
  bool asked = false;
  FigureCache heatmap;
};
void draw_domains_panel(ViewContext& view, DomainsPanelState& state);

struct ModelPanelState {
  FigureCache parameters, flops;
};
void draw_model_panel(ViewContext& view, ModelPanelState& state);

struct PlaygroundPanelState {
  int pin_expert = 0;
  int continuation_tokens = 16;
  std::string error;  // why the last change was refused
};
void draw_playground_panel(ViewContext& view, PlaygroundPanelState& state);
// Validates `next` against the model and hands it to the worker; false (and `error`) if invalid.
bool apply_interventions(ViewContext& view, const moe::RoutingInterventions& next,
                         std::string& error);
// Knocks (layer, expert) out, or back in: what clicking an expert in a view does.
void toggle_knockout(ViewContext& view, int layer, int expert);

struct ExpertsPanelState {
  std::filesystem::path prompts_folder;  // assets/prompts
  int expert = 0;
  std::string prompt_b;
  FigureCache difference;
};
void draw_experts_panel(ViewContext& view, ExpertsPanelState& state);

}  // namespace moescope::gui
