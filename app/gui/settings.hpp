#pragma once
// What the app remembers between runs, as a small JSON file in the user's config folder
// ($XDG_CONFIG_HOME/moescope/settings.json, else ~/.config/moescope/settings.json). ImGui's
// own ini file sits beside it. A missing or damaged file gives the defaults, never an error
// that stops the app.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace moescope::gui {

enum class Theme { Dark, Light };

struct Settings {
  float font_size = 18;  // pixels at scale 1; the projector setting
  Theme theme = Theme::Dark;
  // Window geometry (0: let the window system choose).
  int window_x = 0, window_y = 0, window_width = 1440, window_height = 900;
  bool window_maximized = false;
  // Layout: the prompt column's share of the width, the token strip's share of the height.
  float prompt_column_share = 0.28f;
  float token_strip_share = 0.26f;
  std::string panel = "router";  // the selected view tab
  std::string last_model;        // opened last (from a file dialog, drop or command line)
  std::string prompt = "Solve 15 \xC3\x97 8";
  std::string browse_folder;  // where the file dialog opened last
  // Generation.
  int generate_tokens = 24;
  float temperature = 0.8f;
  float top_p = 0.95f;
  uint64_t seed = 42;
  // View options.
  bool load_as_gate_mass = false;
  bool transitions_normalized = true;
  bool word_view = false;  // the strip and router heatmap join a word's pieces ("Words")
  bool side_by_side = true;  // with a prompt B, the strip, router, load and domains show A | B
  bool cjk_font = true;  // load a CJK font when Debian has one (larger font atlas)
  bool tour_seen = false;  // the guided tour opens by itself once, on the first start
};

// The folder settings live in; `override_dir` (from --config-dir) wins when not empty.
std::filesystem::path config_dir(const std::filesystem::path& override_dir = {});

// Reads settings; unknown keys are ignored, missing or ill-typed values keep their defaults
// (each one adds a line to `problems` when given).
Settings load_settings(const std::filesystem::path& file,
                       std::vector<std::string>* problems = nullptr);
// Writes the file atomically (a temporary file renamed over it). Throws moe::Error on failure.
void save_settings(const std::filesystem::path& file, const Settings& settings);

std::string to_string(Theme theme);

}  // namespace moescope::gui
