// Saving and reopening sessions from the app (formats: session_file.hpp).
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "app.hpp"
#include "export_files.hpp"
#include "moe/error.hpp"

namespace moescope::gui {

namespace {

// The session names its model and profile by absolute path; the open ones may have come from
// relative paths.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  return std::filesystem::equivalent(a, b, error) && !error;
}

// Same model file: no reload.
bool showing_model(const Snapshot& snapshot, const std::string& path) {
  return snapshot.model && same_file(snapshot.model->path, path);
}

}  // namespace

SessionView App::current_session_view() const {
  SessionView view;
  view.panel = settings_.panel;
  view.layer = selection_.layer;
  view.token = selection_.token;
  view.token_pinned = selection_.pinned;
  view.load_as_gate_mass = settings_.load_as_gate_mass;
  view.transitions_normalized = settings_.transitions_normalized;
  view.generate_tokens = settings_.generate_tokens;
  view.temperature = settings_.temperature;
  view.top_p = settings_.top_p;
  view.seed = settings_.seed;
  if (profile_) view.profile_path = profile_->path;
  return view;
}

std::string App::save_session(const std::string& path) {
  try {
    if (!worker_->idle() || !snapshot_->complete)
      throw moe::Error("the model is still computing: save again when it is ready");
    if (snapshot_->model && !snapshot_->model->routing_source.empty())
      throw moe::Error("the routing shown came from " + snapshot_->model->routing_source +
                       ", not from a model file: keep it with File > Export data (trace JSON), "
                       "which File > Import trace opens again");
    prepare_export_folder(path);
    moescope::gui::save_session(path, *snapshot_, current_session_view());
    std::cout << "moescope: session saved to " << path << "\n";
    return {};
  } catch (const std::exception& error) {
    return error.what();
  }
}

void App::open_session(const std::string& path) {
  SavedSession session;
  try {
    session = load_session(path);
  } catch (const std::exception& error) {
    dialogs_.push_back({"Could not open the session", error.what(), true});
    ++errors_seen_;
    return;
  }
  if (!showing_model(*snapshot_, session.model_path)) worker_->load_model(session.model_path);
  set_prompt(session.prompt);
  if (!session.generated_tokens.empty()) {
    GenerateRequest replay;
    replay.n_tokens = static_cast<int>(session.generated_tokens.size());
    replay.replay = session.generated_tokens;
    worker_->generate(std::move(replay));
  }
  settings_.generate_tokens = session.view.generate_tokens;
  settings_.temperature = session.view.temperature;
  settings_.top_p = session.view.top_p;
  settings_.seed = session.view.seed;
  settings_.load_as_gate_mass = session.view.load_as_gate_mass;
  settings_.transitions_normalized = session.view.transitions_normalized;
  // The pooled views show what they showed: the session's profile, or the live prompt.
  if (session.view.profile_path.empty()) {
    close_profile();
  } else if (!profile_ || !same_file(profile_->path, session.view.profile_path)) {
    open_profile(session.view.profile_path);  // read in the background; errors in a dialog
  }
  restoring_ = std::move(session);
}

void App::finish_session_restore() {
  if (!restoring_ || !worker_->idle() || !snapshot_->complete) return;
  SavedSession session = std::move(*restoring_);
  restoring_.reset();
  if (!showing_model(*snapshot_, session.model_path)) {
    dialogs_.push_back({"The session's model did not open",
                        "Its prompt is shown on the current model instead; the saved routing "
                        "was not checked.\nModel of the session: " + session.model_path,
                        false});
    return;
  }
  requested_panel_ = session.view.panel;
  selection_.layer = session.view.layer;
  selection_.token = session.view.token;
  selection_.pinned = session.view.token_pinned;
  update_selection(selection_, static_cast<int>(snapshot_->tokens.size()),
                   snapshot_->trace.moe_layers());
  std::cout << "moescope: session restored: " << snapshot_->tokens.size() << " tokens ("
            << session.generated_tokens.size() << " generated), panel " << session.view.panel
            << ", layer " << selection_.layer << ", token " << selection_.token << "\n";

  // The file names the model by path only: check that it still computes what was saved.
  std::vector<int32_t> prompt_tokens;
  for (int i = 0; i < snapshot_->n_prompt_tokens; ++i)
    prompt_tokens.push_back(snapshot_->tokens[static_cast<size_t>(i)].id);
  std::string problem;
  if (!session.prompt_tokens.empty() && prompt_tokens != session.prompt_tokens) {
    problem = "The prompt tokenizes differently now than when the session was saved.";
  } else if (session.trace) {
    const std::vector<std::string> differences =
        routing_differences(*session.trace, snapshot_->trace);
    if (!differences.empty()) {
      problem = "The model chooses other experts now than when the session was saved, at ";
      for (size_t i = 0; i < differences.size(); ++i) problem += (i ? ", " : "") + differences[i];
      problem += ".";
    }
  }
  if (!problem.empty()) {
    dialogs_.push_back({"The session does not match its model",
                        problem + "\nWas " + session.model_path +
                            " replaced since? The views show what the model computes now.",
                        false});
  }
}

void App::draw_save_session_dialog() {
  if (save_session_requested_) {
    save_session_requested_ = false;
    if (save_session_path_.empty()) {
      char stamp[32];
      const std::time_t now = std::time(nullptr);
      std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
      save_session_path_ = (default_export_folder() / ("session-" + std::string(stamp) +
                                                       kSessionExtension))
                               .string();
    }
    save_session_message_.clear();
    ImGui::OpenPopup("Save session");
  }
  if (!ImGui::BeginPopupModal("Save session", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  ImGui::TextUnformatted("The model path, the prompt and generated tokens, the view and the routing.");
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
  const bool enter = ImGui::InputText("##session-path", &save_session_path_,
                                      ImGuiInputTextFlags_EnterReturnsTrue);
  if (ImGui::Button("Save") || enter) {
    if (!is_session_file(save_session_path_))
      save_session_path_ = std::filesystem::path(save_session_path_).replace_extension("").string() +
                           kSessionExtension;
    save_session_message_ = save_session(save_session_path_);
    if (save_session_message_.empty()) ImGui::CloseCurrentPopup();
  }
  if (!save_session_message_.empty()) {
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    ImGui::TextColored(ImVec4(0.95f, 0.4f, 0.35f, 1), "%s", save_session_message_.c_str());
    ImGui::PopTextWrapPos();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
    ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

}  // namespace moescope::gui
