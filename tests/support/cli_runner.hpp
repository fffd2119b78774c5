#pragma once
// Running the project's executables from tests: shell quoting and capturing their output.
#include <string>

namespace moe::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout (and stderr too with OutputStreams::Merged)
  std::string err;  // stderr with OutputStreams::Separate
};

enum class OutputStreams { Separate, Merged };

// 'text' for a POSIX shell, single quotes inside escaped.
std::string shell_quote(const std::string& text);

// Runs `program` with `args` (already quoted) without a display (DISPLAY and WAYLAND_DISPLAY
// unset, as on a headless machine) and captures its output.
CommandResult run_program(const std::string& program, const std::string& args,
                          OutputStreams streams = OutputStreams::Separate);

// Runs the desktop app `gui` under xvfb-run in its scripted mode on `script_dir`/script.txt,
// with its settings in `script_dir`/config, one compute thread and a 1400x860 window.
// stdout and stderr merged.
CommandResult run_gui_script(const std::string& gui, const std::string& script_dir);

}  // namespace moe::testing
