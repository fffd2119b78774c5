#pragma once
// Running the project's executables from tests: shell quoting, capturing their output, and a
// folder with a generated model for the CLI to work on.
#include <cstdint>
#include <filesystem>
#include <string>

#include "moe/random_model.hpp"

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

// True when `name` is a program on the PATH (tests of the app skip without xvfb-run).
bool have_program(const std::string& name);
// A new, empty folder in the temporary directory, named after `name` and a random number.
std::filesystem::path fresh_temp_dir(const std::string& name);

// Runs moescope-cli, the one this build made (MOESCOPE_CLI_PATH), like run_program.
CommandResult run_cli(const std::string& args, OutputStreams streams = OutputStreams::Separate);

// The model the CLI tests run on: 3 layers (layer 1 dense), 8 experts, top-2.
RandomModelSpec cli_test_model(uint64_t seed);

// A folder of its own in the temporary directory (`stem` and this process's id) holding
// model.gguf generated from `spec`, for tests that run the CLI on files; removed with
// everything in it on destruction.
class CliWorkspace {
public:
  CliWorkspace(const std::string& stem, const RandomModelSpec& spec);
  ~CliWorkspace();
  CliWorkspace(const CliWorkspace&) = delete;
  CliWorkspace& operator=(const CliWorkspace&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  // dir()/name as one shell argument.
  std::string arg(const std::string& name) const;
  std::string model() const { return arg("model.gguf"); }

private:
  std::filesystem::path dir_;
};

// Runs the desktop app `gui` under xvfb-run in its scripted mode on `script_dir`/script.txt,
// with its settings in `script_dir`/config, one compute thread and a 1400x860 window.
// stdout and stderr merged.
CommandResult run_gui_script(const std::string& gui, const std::string& script_dir);

}  // namespace moe::testing
