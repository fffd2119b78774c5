#pragma once
// The application: window layout, menus, dialogs and the status bar. It reads the worker's
// latest snapshot once per frame and hands it to the prompt column and the views (view.hpp),
// and it carries out the user's actions (actions.hpp), whether a view, a menu or the scripted
// mode (script_runner.hpp) asks.
#include <chrono>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "file_browser.hpp"
#include "profile_source.hpp"
#include "prompt_column.hpp"
#include "script_runner.hpp"
#include "session_file.hpp"
#include "settings.hpp"
#include "tour.hpp"
#include "training_run.hpp"
#include "view.hpp"
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
  bool presenter = false;             // start in presenter mode
  int n_threads = 0;
};

class App final : public ScriptHost {
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

  // Actions (actions.hpp).
  const std::string& prompt() const override { return prompt_state_.text; }
  void set_prompt(const std::string& text) override;
  void open_path(const std::string& path) override;
  void open_demo_model(const std::string& path) override;
  void open_random_model(const std::string& path, const moe::RandomModelSpec& spec) override;
  void generate(int n_tokens) override;
  std::string select_token(int token) override;
  std::string select_layer(int layer) override;
  void show_view(const std::string& key) override { requested_panel_ = key; }
  const moe::RoutingInterventions& interventions() const override { return interventions_; }
  bool set_interventions(const moe::RoutingInterventions& next, std::string& error) override;
  void toggle_knockout(int layer, int expert) override;
  void explain_expert(int expert) override;
  void compare_prompt(const std::string& prompt_b) override;
  void set_theme(Theme theme) override;
  void set_presenter(bool on) override;
  void set_font_size(float pixels) override;
  void open_file_dialog() override { open_dialog_requested_ = true; }
  void close_file_dialog() override { close_dialog_requested_ = true; }
  void show_tour_step(int step) override;
  // Sessions (app_session.cpp). Errors go to a dialog; nothing else changes on failure.
  std::string save_session(const std::string& path) override;  // the error, or empty when saved
  // Servers and trace files (app_remote.cpp).
  std::string connect_server(const std::string& url, const std::string& model_config, int layers,
                             int top_k) override;
  void disconnect_server() override;
  std::string import_trace(const std::string& path, const std::string& model_config, int layers,
                           int top_k) override;

  // What the scripted mode reads (script_runner.hpp).
  const Snapshot& shown_snapshot() const override { return *snapshot_; }
  Worker& worker() override { return *worker_; }
  void open_session(const std::string& path) override;
  // A reopened session being recomputed, or a profile being read.
  bool restoring_session() const override {
    return restoring_.has_value() || profile_reading_.valid();
  }
  int errors_seen() const override { return errors_seen_; }
  void dismiss_error_dialog() override;
  TrainingRun& training() override { return training_; }
  void fail(const std::string& message) override;

  ViewContext view_context();
  void take_snapshot();
  void draw_menu_bar();
  void draw_layout();
  void draw_views();
  // Presenter mode (app_presenter.cpp): the token strip and one view fill the window.
  void draw_presenter();
  void presenter_keys();
  // The index in views() of the view shown (settings_.panel), taking a pending request.
  size_t shown_view_index();
  void draw_status_bar();
  void draw_dialogs();
  void draw_open_dialog();
  SessionView current_session_view() const;
  // Once the worker has recomputed a reopened session: restores the view, checks the routing.
  void finish_session_restore();
  void draw_save_session_dialog();
  // File > Connect to server and File > Import trace (app_remote.cpp).
  void draw_source_dialog();
  // Asks the worker to route `prompt` on the connected server (`max_new_tokens` 0: the prompt).
  void route_on_server(const std::string& prompt, int max_new_tokens);
  // A file open_path imports as a trace rather than loading as a model: .npy, or .json that is
  // not a saved session (a route --json output, an SGLang or vLLM answer, moescope-trace).
  static bool is_trace_file(const std::string& path);
  void update_title();
  // Corpus profiles (app_profile.cpp): a .moeprofile opened like a session, read on a thread of
  // its own (a large model's profile is large) and shown once read. Errors go to a dialog; the
  // profile shown before stays.
  void open_profile(const std::string& path);
  void finish_profile_read();  // each frame: takes the profile once it is read
  void close_profile();
  // After a profile opens or another model loads: its snapshot and the shape warning.
  void refresh_profile_snapshot();
  // Draws views()[index]: as it is, or, while a profile is open, on the profile's counts, on the
  // live prompt with a note, or a line saying a profile has no tokens (ViewInfo::profile_use).
  void draw_view(size_t index, ViewContext& context);
  // In place of the token strip while a profile is open: what it is and how to close it.
  void draw_profile_banner();

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

  PromptBoxState prompt_state_;
  TokenStripState strip_state_;
  TrainingRun training_;                     // the Train view's run; goes on behind other tabs
  std::vector<std::unique_ptr<View>> views_;  // one per views() entry, in tab order
  moe::RoutingInterventions interventions_;  // asked for by the user (see ViewContext)
  TourState tour_;
  std::string requested_panel_;  // selects a tab on the next frame
  bool presenter_ = false;
  float font_size_before_presenter_ = 0;  // restored when presenter mode ends
  int held_key_ = -1;                      // a key the scripted mode pressed last frame

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

  // Timing for the status bar.
  std::deque<double> recent_frame_ms_;
  int frame_count_ = 0;

  std::future<std::shared_ptr<const ProfileSource>> profile_reading_;
  std::string profile_reading_path_;
  std::shared_ptr<const ProfileSource> profile_;     // the open corpus profile, or null
  std::shared_ptr<const Snapshot> profile_snapshot_;  // its counts, for the pooled views
  std::string profile_mismatch_;  // the profile's model shape against the open model's

  std::optional<SavedSession> restoring_;  // a reopened session waiting for its recompute
  bool save_session_requested_ = false;
  std::string save_session_path_;
  std::string save_session_message_;

  // The SGLang server the prompt is routed on (File > Connect to server), and the source
  // dialog's fields.
  struct ServerConnection {
    std::string url;
    moe::TraceShape shape;
  };
  std::optional<ServerConnection> server_;
  enum class SourceDialog { None, Connect, Import };
  SourceDialog source_dialog_requested_ = SourceDialog::None;
  SourceDialog source_dialog_ = SourceDialog::None;
  std::string source_url_ = "http://127.0.0.1:30000";
  std::string source_file_;
  std::string source_config_;
  int source_layers_ = 0;
  int source_top_k_ = 0;
  std::string source_error_;

  std::optional<ScriptRunner> script_;
  std::vector<std::string> failures_;
  bool exit_requested_ = false;
};

}  // namespace moescope::gui
