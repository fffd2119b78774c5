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
  FigureStyle style;
  if (theme == Theme::Light) {
    style.text = IM_COL32(20, 20, 20, 255);
    style.dim_text = IM_COL32(80, 80, 80, 255);
    style.axis = IM_COL32(90, 90, 90, 255);
    style.grid = IM_COL32(0, 0, 0, 28);
    style.background = IM_COL32(255, 255, 255, 255);
    style.hover = IM_COL32(0, 0, 0, 220);
  } else {
    style.text = IM_COL32(235, 235, 235, 255);
    style.dim_text = IM_COL32(175, 178, 185, 255);
    style.axis = IM_COL32(140, 140, 145, 255);
    style.grid = IM_COL32(255, 255, 255, 28);
    style.background = IM_COL32(19, 20, 23, 255);
    style.hover = IM_COL32(255, 255, 255, 230);
  }
  return style;
}

}  // namespace moescope::gui
