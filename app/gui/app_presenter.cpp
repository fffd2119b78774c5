// Presenter mode, for a class on a projector: the token strip and one view fill the window in
// large text, with no menus and none of the developer figures of the status bar. Left/Right go
// to the previous / next view (or step, in a view with steps), Up/Down change the layer, Tab selects the next token, Esc (or
// F5) leaves.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <utility>

#include "app.hpp"
#include "side_by_side.hpp"

namespace moescope::gui {

namespace {

constexpr float kPresenterFontSize = 28;  // the smallest text size presenter mode shows

}  // namespace

void App::set_presenter(bool on) {
  if (on == presenter_) return;
  presenter_ = on;
  if (on) {
    font_size_before_presenter_ = settings_.font_size;
    if (settings_.font_size < kPresenterFontSize) set_font_size(kPresenterFontSize);
  } else {
    if (font_size_before_presenter_ > 0) set_font_size(font_size_before_presenter_);
    requested_panel_ = settings_.panel;  // the tab bar shows the view presented last
  }
}

size_t App::shown_view_index() {
  if (find_view(requested_panel_)) settings_.panel = requested_panel_;
  requested_panel_.clear();
  for (size_t i = 0; i < views().size(); ++i)
    if (settings_.panel == views()[i]->key) return i;
  settings_.panel = views().front()->key;
  return 0;
}

void App::presenter_keys() {
  if (ImGui::GetIO().WantTextInput) return;
  const int n_views = static_cast<int>(views().size());
  const int shown = static_cast<int>(shown_view_index());
  // A view with steps (Inside the MoE layer) goes through them before the next view.
  View& view = *views_[static_cast<size_t>(shown)];
  if (ImGui::IsKeyPressed(GLFW_KEY_LEFT) && !view.step(-1))
    show_view(views()[(shown + n_views - 1) % n_views]->key);
  if (ImGui::IsKeyPressed(GLFW_KEY_RIGHT) && !view.step(1))
    show_view(views()[(shown + 1) % n_views]->key);
  const std::vector<int>& layers = snapshot_->trace.moe_layers();
  if (ImGui::IsKeyPressed(GLFW_KEY_UP)) step_layer(selection_, -1, layers);
  if (ImGui::IsKeyPressed(GLFW_KEY_DOWN)) step_layer(selection_, 1, layers);
  const int n_tokens = static_cast<int>(snapshot_->tokens.size());
  if (ImGui::IsKeyPressed(GLFW_KEY_TAB) && n_tokens > 0) {
    // The next token, round to the first after the last.
    if (selection_.token + 1 >= n_tokens) selection_.token = -1;
    move_token(selection_, 1, n_tokens);
  }
  if (ImGui::IsKeyPressed(GLFW_KEY_ESCAPE, false)) set_presenter(false);
}

void App::draw_presenter() {
  presenter_keys();
  if (!presenter_) return;  // Esc: the normal window from the next frame on
  const size_t shown = shown_view_index();
  const ViewInfo& info = *views()[shown];
  ImGui::TextUnformatted(info.title);  // the theme's text colour: readable on both themes
  ImGui::SameLine(0, ImGui::GetFontSize());
  ImGui::TextDisabled("\xE2\x86\x90 \xE2\x86\x92 view   \xE2\x86\x91 \xE2\x86\x93 layer   Tab token   "
                      "Esc leaves");
  ViewContext context = view_context();
  // The strip without its colour legend (each view has its own): the layer line and a row of
  // tokens. The keys above are presenter mode's, not the strip's.
  const bool show_legend = std::exchange(strip_state_.show_legend, false);
  strip_state_.keyboard = false;
  const float strip_rows = prompt_b_beside(context) ? 3.8f : 2.6f;  // A | B: a row more
  ImGui::BeginChild("##presenter_strip", ImVec2(0, ImGui::GetFrameHeightWithSpacing() * strip_rows),
                    true);
  if (profile_ || profile_reading_.valid()) draw_profile_banner();
  else draw_token_strip(context, strip_state_);
  ImGui::EndChild();
  strip_state_.keyboard = true;
  strip_state_.show_legend = show_legend;
  ImGui::BeginChild("##presenter_view", ImVec2(0, 0), true);
  draw_view(shown, context);
  ImGui::EndChild();
}

}  // namespace moescope::gui
