#include "tour.hpp"

#include <imgui.h>

#include <algorithm>
#include <string_view>

#include "explanations.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

// Steps about the prompt column or the token strip leave the view tabs as they are.
void show_step(const TourState& tour, std::string& requested_panel) {
  const char* place = explanations()[tour.step].panel;
  if (find_view(place)) requested_panel = place;
}

}  // namespace

void start_tour(TourState& tour, std::string& requested_panel) {
  tour.open = true;
  tour.step = 0;
  show_step(tour, requested_panel);
}

void step_tour(TourState& tour, std::string& requested_panel, int delta) {
  const long last = static_cast<long>(explanations().size()) - 1;
  tour.step = static_cast<size_t>(std::clamp(static_cast<long>(tour.step) + delta, 0L, last));
  show_step(tour, requested_panel);
}

TourSide tour_bubble_side(const char* place) {
  // Over the prompt column, except when the step is about the prompt box.
  return std::string_view(place) == "prompt" ? TourSide::Right : TourSide::Left;
}

void draw_tour(TourState& tour, std::string& requested_panel) {
  if (!tour.open) return;
  const std::vector<Explanation>& steps = explanations();
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  const float margin = ImGui::GetFontSize() * 2;
  // Over the part of the window the step is not about (the bubble must not cover its subject),
  // and no wider than that part, the prompt column, is.
  const bool left = tour_bubble_side(steps[tour.step].panel) == TourSide::Left;
  const float x = left ? viewport->WorkPos.x + margin / 2
                       : viewport->WorkPos.x + viewport->WorkSize.x - margin;
  ImGui::SetNextWindowPos(ImVec2(x, viewport->WorkPos.y + viewport->WorkSize.y - margin * 1.5f),
                          ImGuiCond_Always, ImVec2(left ? 0.0f : 1.0f, 1));
  // As wide as the prompt column, over which it sits for the steps about views.
  const float wrap_width = std::max(viewport->WorkSize.x * 0.28f, margin * 7);
  ImGui::SetNextWindowBgAlpha(0.96f);
  const std::string title = "Guided tour (" + std::to_string(tour.step + 1) + " of " +
                            std::to_string(steps.size()) + ")###tour";
  if (!ImGui::Begin(title.c_str(), &tour.open,
                    ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse |
                        ImGuiWindowFlags_NoSavedSettings)) {
    ImGui::End();
    return;
  }
  const Explanation& step = steps[tour.step];
  // The theme's own text colour: a fixed light blue vanished on the light theme.
  ImGui::TextUnformatted(step.title);
  ImGui::Separator();
  // The texts break their lines for a wide window; here they wrap to the bubble.
  std::string text = step.text;
  std::replace(text.begin(), text.end(), '\n', ' ');
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap_width);
  ImGui::TextUnformatted(text.c_str());
  ImGui::PopTextWrapPos();
  ImGui::Spacing();
  ImGui::BeginDisabled(tour.step == 0);
  if (ImGui::Button("Back")) step_tour(tour, requested_panel, -1);
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (tour.step + 1 < steps.size()) {
    if (ImGui::Button("Next")) step_tour(tour, requested_panel, 1);
  } else if (ImGui::Button("Done")) {
    tour.open = false;
  }
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap_width);
  ImGui::TextDisabled("Help > Guided tour shows it again.");
  ImGui::PopTextWrapPos();
  ImGui::End();
}

}  // namespace moescope::gui
