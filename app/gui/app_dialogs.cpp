// The App's modal dialogs: messages from the worker (errors, warnings) and the file dialog
// that opens a model or a saved session.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <filesystem>

#include "app.hpp"
#include "moe/human_units.hpp"
#include "moe/model_loading.hpp"

namespace moescope::gui {

void App::draw_dialogs() {
  if (!dialogs_.empty() && !ImGui::IsPopupOpen("##message")) ImGui::OpenPopup("##message");
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 30, 0));
  if (ImGui::BeginPopupModal("##message", nullptr,
                             ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_AlwaysAutoResize)) {
    if (!dialogs_.empty()) {
      const WorkerMessage& message = dialogs_.front();
      ImGui::TextColored(message.error ? ImVec4(0.95f, 0.4f, 0.35f, 1) : ImVec4(0.5f, 0.75f, 1, 1),
                         "%s", message.title.c_str());
      ImGui::Separator();
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 29);
      ImGui::TextUnformatted(message.text.c_str());
      ImGui::PopTextWrapPos();
      if (message.error && snapshot_->model) {
        ImGui::TextDisabled("%s stays open.", snapshot_->model->name.c_str());
      }
    }
    if (ImGui::Button("OK", ImVec2(ImGui::GetFontSize() * 6, 0)) ||
        ImGui::IsKeyPressed(GLFW_KEY_ENTER) || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE) ||
        dialogs_.empty()) {
      if (!dialogs_.empty()) dialogs_.pop_front();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
  draw_open_dialog();
  draw_source_dialog();
}

void App::draw_open_dialog() {
  if (open_dialog_requested_) {
    open_dialog_requested_ = false;
    std::filesystem::path folder = listing_.folder;
    std::error_code ignored;
    if (folder.empty() || !std::filesystem::is_directory(folder, ignored)) {
      folder = snapshot_->model ? std::filesystem::path(snapshot_->model->path).parent_path()
                                : options_.assets_dir / "models";
      if (!std::filesystem::is_directory(folder, ignored))
        folder = std::filesystem::current_path(ignored);
    }
    listing_ = list_folder(folder, show_all_files_);
    dialog_path_.clear();
    ImGui::OpenPopup("Open model or session");
  }
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(
      ImVec2(std::min(display.x * 0.9f, ImGui::GetFontSize() * 40), display.y * 0.7f),
      ImGuiCond_Appearing);
  open_dialog_visible_ = ImGui::BeginPopupModal("Open model or session", nullptr, 0);
  if (!open_dialog_visible_) return;
  if (close_dialog_requested_) {
    close_dialog_requested_ = false;
    ImGui::CloseCurrentPopup();
  }
  std::filesystem::path enter;
  if (ImGui::ArrowButton("##up", ImGuiDir_Up)) enter = listing_.folder.parent_path();
  ImGui::SameLine();
  ImGui::TextUnformatted(listing_.folder.string().c_str());
  if (ImGui::Checkbox("Show all files, not only models and sessions", &show_all_files_))
    listing_ = list_folder(listing_.folder, show_all_files_);
  const float footer = ImGui::GetFrameHeightWithSpacing() * 2 + ImGui::GetStyle().ItemSpacing.y;
  ImGui::BeginChild("##entries", ImVec2(0, -footer), true);
  if (!listing_.error.empty())
    ImGui::TextColored(ImVec4(0.95f, 0.4f, 0.35f, 1), "%s", listing_.error.c_str());
  if (listing_.entries.empty() && listing_.error.empty())
    ImGui::TextDisabled("No GGUF models or saved sessions here.");
  std::string open_now;
  for (const BrowserEntry& entry : listing_.entries) {
    const std::string label = (entry.is_directory ? "[folder]  " : "") + entry.name;
    const std::string full = (listing_.folder / entry.name).string();
    if (ImGui::Selectable(label.c_str(), dialog_path_ == full,
                          ImGuiSelectableFlags_AllowDoubleClick)) {
      if (entry.is_directory) {
        if (ImGui::IsMouseDoubleClicked(0)) enter = listing_.folder / entry.name;
      } else {
        dialog_path_ = full;
        if (ImGui::IsMouseDoubleClicked(0)) open_now = full;
      }
    }
    if (!entry.is_directory) {
      ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - ImGui::CalcTextSize("0000 MB").x);
      ImGui::TextDisabled("%s", moe::human_bytes(entry.size).c_str());
    }
  }
  ImGui::EndChild();
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint("##path", "path to a .gguf model, a .moescope.json session or a .moeprofile", &dialog_path_,
                               ImGuiInputTextFlags_EnterReturnsTrue)) {
    open_now = dialog_path_;
  }
  ImGui::BeginDisabled(dialog_path_.empty());
  if (ImGui::Button("Open")) open_now = dialog_path_;
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(GLFW_KEY_ESCAPE)) ImGui::CloseCurrentPopup();
  if (!enter.empty()) {
    std::error_code ignored;
    if (std::filesystem::is_directory(enter, ignored))
      listing_ = list_folder(enter, show_all_files_);
    else if (!enter.empty())
      dialog_path_ = enter.string();
  }
  if (!open_now.empty()) {
    std::error_code ignored;
    if (std::filesystem::is_directory(open_now, ignored)) {
      listing_ = list_folder(open_now, show_all_files_);
    } else {
      settings_.browse_folder = listing_.folder.string();
      open_path(open_now);
      ImGui::CloseCurrentPopup();
    }
  }
  ImGui::EndPopup();
}

}  // namespace moescope::gui
