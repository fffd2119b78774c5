#include "cli_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace moe::testing {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult run_program(const std::string& program, const std::string& args,
                          OutputStreams streams) {
  static std::atomic<int> counter{0};
  const fs::path err_path = fs::temp_directory_path() /
                            ("moescope_test_stderr_" + std::to_string(::getpid()) + "_" +
                             std::to_string(counter++));
  const std::string redirect =
      streams == OutputStreams::Merged ? " 2>&1" : " 2>" + shell_quote(err_path.string());
  const std::string command =
      "env -u DISPLAY -u WAYLAND_DISPLAY " + shell_quote(program) + " " + args + redirect;

  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) {
    result.out.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (streams == OutputStreams::Separate) {
    std::ifstream err(err_path, std::ios::binary);
    result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    std::error_code ignored;
    fs::remove(err_path, ignored);
  }
  return result;
}

CommandResult run_cli(const std::string& args, OutputStreams streams) {
  return run_program(MOESCOPE_CLI_PATH, args, streams);
}

RandomModelSpec cli_test_model(uint64_t seed) {
  RandomModelSpec spec;
  spec.n_layer = 3;
  spec.n_expert = 8;
  spec.n_expert_used = 2;
  spec.dense_layers = {1};
  spec.seed = seed;
  return spec;
}

CliWorkspace::CliWorkspace(const std::string& stem, const RandomModelSpec& spec)
    : dir_(fs::temp_directory_path() / (stem + "_" + std::to_string(::getpid()))) {
  fs::create_directories(dir_);
  write_random_model(spec, dir_ / "model.gguf");
}

CliWorkspace::~CliWorkspace() {
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string CliWorkspace::arg(const std::string& name) const {
  return shell_quote((dir_ / name).string());
}

CommandResult run_gui_script(const std::string& gui, const std::string& script_dir) {
  const std::string args = "-a -s '-screen 0 1600x1000x24' " + shell_quote(gui) +
                           " --config-dir " + shell_quote(script_dir + "/config") +
                           " --threads 1 --width 1400 --height 860 --script " +
                           shell_quote(script_dir + "/script.txt");
  return run_program("xvfb-run", args, OutputStreams::Merged);
}

bool have_program(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::filesystem::path fresh_temp_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("moescope_" + name + "_" + std::to_string(std::random_device{}()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace moe::testing
