#include "theme.hpp"

#include <imgui.h>

namespace moescope::gui {

void apply_theme(Theme theme, float scale) {
  ImGuiStyle style;
  if (theme == Theme::Light) {
    ImGui::StyleColorsLight(&style);
    style.Colors[ImGuiCol_WindowBg] = ImVec4(0.98f, 0.98f, 0.97f, 1.0f);
    style.Colors[ImGuiCol_ChildBg] = ImVec4(1.0f, 1.0f, 1.0f, 1.0f);
    style.Colors[ImGuiCol_Border] = ImVec4(0.0f, 0.0f, 0.0f, 0.18f);
  } else {
    ImGui::StyleColorsDark(&style);
    style.Colors[ImGuiCol_WindowBg] = ImVec4(0.10f, 0.105f, 0.115f, 1.0f);
    style.Colors[ImGuiCol_ChildBg] = ImVec4(0.075f, 0.08f, 0.09f, 1.0f);
    style.Colors[ImGuiCol_MenuBarBg] = ImVec4(0.14f, 0.145f, 0.16f, 1.0f);
  }
  style.WindowRounding = 0;
  style.ChildRounding = 3;
  style.FrameRounding = 3;
  style.PopupRounding = 3;
  style.GrabRounding = 3;
  style.TabRounding = 3;
  style.FrameBorderSize = theme == Theme::Light ? 1.0f : 0.0f;
  style.WindowPadding = ImVec2(8, 8);
  style.ItemSpacing = ImVec2(8, 6);
  style.ScaleAllSizes(scale);
  ImGui::GetStyle() = style;
}

FigureStyle figure_style(Theme theme) {
  // The exporter's palettes, so that a figure looks alike in the app and in a file.
  if (theme == Theme::Light)
    return figure_style_from(moe::plot::light_palette(), IM_COL32(0, 0, 0, 220));
  return figure_style_from(moe::plot::dark_palette(), IM_COL32(255, 255, 255, 230));
}

}  // namespace moescope::gui
