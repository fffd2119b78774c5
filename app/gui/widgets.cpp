#include "widgets.hpp"

#include <imgui_internal.h>  // the item flags: a disabled button cannot be pressed

#include <algorithm>
#include <string>
#include <string_view>

#include "figure_view.hpp"
#include "moe/plot/routing_figures.hpp"

namespace moescope::gui {

uint64_t cache_key(std::initializer_list<uint64_t> parts) {
  uint64_t key = 0xcbf29ce484222325ull;  // FNV-1a over the 64-bit parts
  for (uint64_t part : parts) {
    key ^= part;
    key *= 0x100000001b3ull;
  }
  return key;
}

namespace {

// Appending (rather than "L" + std::to_string(...)) also avoids a false -Wrestrict from GCC 12.
std::string layer_name(int layer) {
  std::string name = "L";
  name += std::to_string(layer);
  return name;
}

}  // namespace

bool layer_selector(const char* id, Selection& selection, const std::vector<int>& moe_layers) {
  ImGui::PushID(id);
  const int before = selection.layer;
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Layer");
  ImGui::SameLine();
  ImGui::BeginDisabled(moe_layers.empty() || selection.layer == moe_layers.front());
  if (ImGui::ArrowButton("##previous", ImGuiDir_Left)) step_layer(selection, -1, moe_layers);
  ImGui::EndDisabled();
  ImGui::SameLine();
  const std::string current = selection.layer >= 0 ? layer_name(selection.layer) : std::string("-");
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("L000").x + ImGui::GetFrameHeight() +
                          ImGui::GetStyle().FramePadding.x * 2);
  if (ImGui::BeginCombo("##layer", current.c_str())) {
    for (int layer : moe_layers) {
      const bool selected = layer == selection.layer;
      if (ImGui::Selectable(layer_name(layer).c_str(), selected)) selection.layer = layer;
      if (selected) ImGui::SetItemDefaultFocus();
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::BeginDisabled(moe_layers.empty() || selection.layer == moe_layers.back());
  if (ImGui::ArrowButton("##next", ImGuiDir_Right)) step_layer(selection, 1, moe_layers);
  ImGui::EndDisabled();
  ImGui::PopID();
  return selection.layer != before;
}

float expert_chip_width(int expert) {
  return ImGui::GetTextLineHeight() + 4 +
         ImGui::CalcTextSize(moe::plot::expert_label(expert).c_str()).x;
}

void expert_chip(int expert) {
  const float size = ImGui::GetTextLineHeight();
  const ImVec2 at = ImGui::GetCursorScreenPos();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 end(at.x + size, at.y + size);
  draw->AddRectFilled(at, end, to_imgui(moe::plot::expert_color(expert)), 2);
  ImGui::Dummy(ImVec2(size, size));
  ImGui::SameLine(0, 4);
  ImGui::TextUnformatted(moe::plot::expert_label(expert).c_str());
}

bool splitter(const char* id, bool vertical, float thickness, float length, float& share,
              float total, float min_share, float max_share) {
  const ImVec2 at = ImGui::GetCursorScreenPos();
  const ImVec2 button_size(vertical ? thickness : length, vertical ? length : thickness);
  ImGui::InvisibleButton(id, button_size);
  const bool active = ImGui::IsItemActive();
  const bool hovered = ImGui::IsItemHovered();
  if (hovered || active)
    ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
  if (active && total > 0) {
    const float delta = vertical ? ImGui::GetIO().MouseDelta.x : ImGui::GetIO().MouseDelta.y;
    share = std::clamp(share + delta / total, min_share, max_share);
  }
  const ImU32 color = ImGui::GetColorU32(active    ? ImGuiCol_SeparatorActive
                                         : hovered ? ImGuiCol_SeparatorHovered
                                                   : ImGuiCol_Separator);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  if (vertical) {
    const float x = at.x + thickness / 2;
    draw->AddLine(ImVec2(x, at.y), ImVec2(x, at.y + button_size.y), color,
                  hovered || active ? 3.0f : 1.0f);
  } else {
    const float y = at.y + thickness / 2;
    draw->AddLine(ImVec2(at.x, y), ImVec2(at.x + button_size.x, y), color,
                  hovered || active ? 3.0f : 1.0f);
  }
  return active;
}

void help_marker(const char* text) {
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

namespace {

// The scripted mode's pending press (UI thread only).
std::string pending_press;
bool press_delivered = false;

}  // namespace

// True when the scripted mode asked for the item just drawn with `label` to be pressed (and it
// is enabled); the request is then delivered.
bool scripted_press(const char* label) {
  if (pending_press.empty()) return false;
  const std::string_view full(label);
  const std::string_view visible = full.substr(0, full.find("##"));
  if ((visible != pending_press && full != pending_press) ||
      (ImGui::GetItemFlags() & ImGuiItemFlags_Disabled) != 0)
    return false;
  pending_press.clear();
  press_delivered = true;
  return true;
}

bool button(const char* label, ImVec2 size) {
  const bool pressed = ImGui::Button(label, size);
  return scripted_press(label) || pressed;
}

bool checkbox(const char* label, bool* value) {
  bool changed = ImGui::Checkbox(label, value);
  if (scripted_press(label)) {
    *value = !*value;
    changed = true;
  }
  return changed;
}

bool radio_button(const char* label, int* value, int choice) {
  bool changed = ImGui::RadioButton(label, value, choice);
  if (scripted_press(label)) {
    changed = *value != choice;
    *value = choice;
  }
  return changed;
}

FigureStack stack_two_figures(const char* first_name, const char* second_name, int& shown,
                              float first_share) {
  const float readable = ImGui::GetTextLineHeight() * 13;
  const float room = ImGui::GetContentRegionAvail().y;
  if (room >= 2 * readable) {
    const float first = std::min(std::max(readable, room * first_share), room - readable);
    return {first, room - first};
  }
  for (int i = 0; i < 2; ++i) {
    if (i > 0) ImGui::SameLine();
    const bool active = shown == i;
    if (active) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
    if (button(i == 0 ? first_name : second_name)) shown = i;
    if (active) ImGui::PopStyleColor();
  }
  const float height = ImGui::GetContentRegionAvail().y;
  return shown == 0 ? FigureStack{height, 0} : FigureStack{0, height};
}

void request_button_press(const std::string& label) {
  pending_press = label;
  press_delivered = false;
}

bool take_delivered_press() {
  const bool delivered = press_delivered;
  press_delivered = false;
  return delivered;
}

}  // namespace moescope::gui
