#include "tour.hpp"

#include <imgui.h>

#include <algorithm>

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

void draw_tour(TourState& tour, std::string& requested_panel) {
  if (!tour.open) return;
  const std::vector<Explanation>& steps = explanations();
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  const float margin = ImGui::GetFontSize() * 2;
  ImGui::SetNextWindowPos(ImVec2(viewport->WorkPos.x + viewport->WorkSize.x - margin,
                                 viewport->WorkPos.y + viewport->WorkSize.y - margin * 1.5f),
                          ImGuiCond_Always, ImVec2(1, 1));
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
  ImGui::TextColored(ImVec4(0.5f, 0.75f, 1, 1), "%s", step.title);
  ImGui::TextUnformatted(step.text);
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
  ImGui::SameLine();
  ImGui::TextDisabled("(Help > Guided tour shows it again)");
  ImGui::End();
}

}  // namespace moescope::gui
