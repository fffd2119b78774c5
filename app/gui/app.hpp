#pragma once
// The application: window layout, menus, dialogs, the status bar and the scripted mode. It
// reads the worker's latest snapshot once per frame and hands it to the panels.
#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "file_browser.hpp"
#include "panel_train.hpp"
#include "panels.hpp"
#include "script.hpp"
#include "session_file.hpp"
#include "tour.hpp"
#include "settings.hpp"
#include "worker.hpp"

struct GLFWwindow;

namespace moescope::gui {

struct AppOptions {
  std::string model_path;             // from the command line (empty: bundled or demo model)
  std::filesystem::path demo_model;   // where to write the random demo model when there is none
  std::filesystem::path assets_dir;   // assets/ (bundled models and prompt sets)
  std::filesystem::path config_dir;   // settings.json and imgui.ini
  std::vector<ScriptCommand> script;  // scripted mode when not empty
  bool save_settings = true;          // the scripted mode leaves the user's settings alone
  int n_threads = 0;
};

class App {
public:
  App(GLFWwindow* window, AppOptions options);
  ~App();

  // Between frames, before ImGui::NewFrame: applies font size and theme changes.
  void before_frame();
  // After the platform backend's NewFrame, before ImGui::NewFrame: the scripted mode places
  // the pointer itself (under Xvfb it would rest on whatever is in the middle of the screen).
  void override_input();
  // Builds the UI of one frame.
  void frame();
  // After rendering, before the swap: GL error check, screenshots.
  void after_render(double frame_ms);

  void on_drop(const std::vector<std::string>& paths);
  bool wants_exit() const { return exit_requested_; }
  int exit_code() const { return failures_.empty() ? 0 : 1; }
  // True when nothing is animating, so the main loop may sleep until an event.
  bool can_idle() const;
  void save();

private:
  struct ScriptState {
    size_t next = 0;
    int frames_left = 0;                            // Frames command and settling frames
    std::string typing;                             // Type command: bytes still to type
    std::chrono::steady_clock::time_point started;  // of the current waiting command
    bool command_started = false;
    bool issued = false;          // the current command's request went to the worker
    std::string screenshot_path;  // capture after the next render
    int errors_expected = 0;
    int hover_token = -1;  // HoverToken: the token the pointer rests on
  };

  void take_snapshot();
  void draw_menu_bar();
  void draw_layout();
  void draw_views();
  void draw_status_bar();
  void draw_dialogs();
  void draw_open_dialog();
  void open_model(const std::string& path);
  // A model or a saved session (by its .moescope.json name): the command line, drops, dialog.
  void open_path(const std::string& path);
  // Sessions (app_session.cpp). Errors go to a dialog; nothing else changes on failure.
  void open_session(const std::string& path);
  std::string save_session(const std::string& path);  // the error, or empty when saved
  SessionView current_session_view() const;
  // Once the worker has recomputed a reopened session: restores the view, checks the routing.
  void finish_session_restore();
  void draw_save_session_dialog();
  void request_font_size(float size);
  void update_title();
  void step_script();
  void fail(const std::string& message);
  bool worker_caught_up() const;

  GLFWwindow* window_;
  AppOptions options_;
  std::filesystem::path settings_file_;
  std::string imgui_ini_;  // ImGui keeps a pointer to it
  Settings settings_;
  std::unique_ptr<Worker> worker_;

  std::shared_ptr<const Snapshot> snapshot_;
  uint64_t shown_model_generation_ = 0;
  Selection selection_;
  std::vector<std::string> token_labels_;
  FigureStyle figure_style_;

  PromptPanelState prompt_state_;
  TokenStripState strip_state_;
  RouterPanelState router_state_;
  PathPanelState path_state_;
  LoadPanelState load_state_;
  CoactivationPanelState coactivation_state_;
  ModelPanelState model_state_;
  DomainsPanelState domains_state_;
  TrainPanelState train_state_;
  PlaygroundPanelState playground_state_;
  ExpertsPanelState experts_state_;
  moe::RoutingInterventions interventions_;  // asked for by the user (see ViewContext)
  TourState tour_;
  std::string requested_panel_;  // selects a tab on the next frame

  bool fonts_dirty_ = true;
  std::string font_note_;
  std::deque<WorkerMessage> dialogs_;
  int errors_seen_ = 0;

  bool open_dialog_requested_ = false;
  bool open_dialog_visible_ = false;
  bool close_dialog_requested_ = false;
  bool show_all_files_ = false;
  FolderListing listing_;
  std::string dialog_path_;

  // Timing for the status bar and the scripted mode's report.
  std::deque<double> recent_frame_ms_;
  std::vector<double> typing_frame_ms_;
  std::vector<double> typing_latency_ms_;
  uint64_t last_latency_version_ = 0;
  int frame_count_ = 0;

  std::optional<SavedSession> restoring_;  // a reopened session waiting for its recompute
  bool save_session_requested_ = false;
  std::string save_session_path_;
  std::string save_session_message_;

  std::optional<ScriptState> script_;
  std::vector<std::string> failures_;
  bool exit_requested_ = false;
};

}  // namespace moescope::gui
