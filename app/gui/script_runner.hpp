#pragma once
// Runs a parsed script (script.hpp) one frame at a time, through the same actions the views and
// menus use (actions.hpp). Commands that wait (a model, a generation, an export ...) are
// revisited every frame until the app has caught up; a command that waits too long, a bad
// argument or an unexpected error dialog is a failure, and a failed run exits non-zero.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "actions.hpp"
#include "script.hpp"
#include "training_run.hpp"
#include "worker.hpp"

namespace moescope::gui {

// What the runner needs from the app besides the user's actions.
class ScriptHost : public Actions {
public:
  virtual const Snapshot& shown_snapshot() const = 0;  // what the views show this frame
  virtual Worker& worker() = 0;
  virtual void open_session(const std::string& path) = 0;
  virtual bool restoring_session() const = 0;  // a reopened session is being recomputed
  virtual int errors_seen() const = 0;         // error dialogs since the start
  virtual void dismiss_error_dialog() = 0;     // closes the oldest error dialog, as a user would
  virtual TrainingRun& training() = 0;
  virtual void fail(const std::string& message) = 0;
};

class ScriptRunner {
public:
  explicit ScriptRunner(std::vector<ScriptCommand> script) : script_(std::move(script)) {}

  // Once per frame, before the views are drawn.
  void step(ScriptHost& host);
  // True once the script ran out or hit `exit` (or timed out).
  bool finished() const { return finished_; }
  // The token of the strip the pointer should rest on, or -1.
  int hover_token() const { return hover_token_; }
  // The key (GLFW key code) to press on this frame, once; -1 when none.
  int take_key_press() { return std::exchange(key_to_press_, -1); }
  // After each render: where to save a screenshot of this frame, or empty.
  std::string screenshot_due();
  void frame_rendered(double frame_ms);
  // When the views take a new snapshot: keystroke latency while typing.
  void snapshot_shown(const Snapshot& snapshot);

private:
  bool caught_up(ScriptHost& host) const;
  // Runs the current command; false while it waits.
  bool run(const ScriptCommand& command, ScriptHost& host);
  void report(ScriptHost& host);

  std::vector<ScriptCommand> script_;
  size_t next_ = 0;
  int frames_left_ = 0;                            // Frames command and settling frames
  std::string typing_;                             // Type command: bytes still to type
  std::chrono::steady_clock::time_point started_;  // of the current waiting command
  bool command_started_ = false;
  bool issued_ = false;          // the current command's request went out
  std::string screenshot_path_;  // capture after the next render
  int errors_expected_ = 0;
  int hover_token_ = -1;
  int frames_waited_ = 0;  // Press: frames since the press was requested
  int key_to_press_ = -1;
  bool finished_ = false;

  // For the report at the end.
  int frames_ = 0;
  std::deque<double> recent_frame_ms_;
  std::vector<double> typing_frame_ms_;
  std::vector<double> typing_latency_ms_;
  uint64_t last_latency_version_ = 0;
};

}  // namespace moescope::gui
