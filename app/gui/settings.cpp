#include "settings.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "moe/error.hpp"

namespace moescope::gui {

namespace {

using nlohmann::json;

// Copies json[key] into `value` when present and of a compatible type.
template <typename T>
void read_value(const json& object, const char* key, T& value, std::vector<std::string>* problems) {
  const auto it = object.find(key);
  if (it == object.end()) return;
  try {
    value = it->get<T>();
  } catch (const json::exception&) {
    if (problems) problems->push_back(std::string("settings: ignored '") + key + "' (wrong type)");
  }
}

}  // namespace

std::string to_string(Theme theme) { return theme == Theme::Light ? "light" : "dark"; }

std::filesystem::path config_dir(const std::filesystem::path& override_dir) {
  if (!override_dir.empty()) return override_dir;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "moescope";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".config" / "moescope";
  }
  return std::filesystem::current_path() / ".moescope";
}

Settings load_settings(const std::filesystem::path& file, std::vector<std::string>* problems) {
  Settings settings;
  std::ifstream in(file, std::ios::binary);
  if (!in) return settings;
  json object;
  try {
    object = json::parse(in);
  } catch (const json::exception& error) {
    if (problems)
      problems->push_back("settings: " + file.string() + " is not valid JSON; using defaults (" +
                          error.what() + ")");
    return settings;
  }
  if (!object.is_object()) {
    if (problems)
      problems->push_back("settings: " + file.string() + " is not a JSON object; using defaults");
    return settings;
  }
  read_value(object, "font_size", settings.font_size, problems);
  std::string theme = to_string(settings.theme);
  read_value(object, "theme", theme, problems);
  settings.theme = theme == "light" ? Theme::Light : Theme::Dark;
  read_value(object, "window_x", settings.window_x, problems);
  read_value(object, "window_y", settings.window_y, problems);
  read_value(object, "window_width", settings.window_width, problems);
  read_value(object, "window_height", settings.window_height, problems);
  read_value(object, "window_maximized", settings.window_maximized, problems);
  read_value(object, "prompt_column_share", settings.prompt_column_share, problems);
  read_value(object, "token_strip_share", settings.token_strip_share, problems);
  read_value(object, "panel", settings.panel, problems);
  read_value(object, "last_model", settings.last_model, problems);
  read_value(object, "prompt", settings.prompt, problems);
  read_value(object, "browse_folder", settings.browse_folder, problems);
  read_value(object, "generate_tokens", settings.generate_tokens, problems);
  read_value(object, "temperature", settings.temperature, problems);
  read_value(object, "top_p", settings.top_p, problems);
  read_value(object, "seed", settings.seed, problems);
  read_value(object, "load_as_gate_mass", settings.load_as_gate_mass, problems);
  read_value(object, "transitions_normalized", settings.transitions_normalized, problems);
  read_value(object, "side_by_side", settings.side_by_side, problems);
  read_value(object, "word_view", settings.word_view, problems);
  read_value(object, "cjk_font", settings.cjk_font, problems);
  read_value(object, "tour_seen", settings.tour_seen, problems);
  // Values a hand-edited file could make unusable are brought back into range.
  if (!(settings.font_size >= 8 && settings.font_size <= 72))
    settings.font_size = Settings{}.font_size;
  if (!(settings.prompt_column_share >= 0.1f && settings.prompt_column_share <= 0.8f)) {
    settings.prompt_column_share = Settings{}.prompt_column_share;
  }
  if (!(settings.token_strip_share >= 0.08f && settings.token_strip_share <= 0.8f)) {
    settings.token_strip_share = Settings{}.token_strip_share;
  }
  if (settings.window_width < 320 || settings.window_height < 240) {
    settings.window_width = Settings{}.window_width;
    settings.window_height = Settings{}.window_height;
  }
  if (settings.generate_tokens < 1 || settings.generate_tokens > 4096)
    settings.generate_tokens = Settings{}.generate_tokens;
  if (!(settings.temperature >= 0 && settings.temperature <= 5))
    settings.temperature = Settings{}.temperature;
  if (!(settings.top_p > 0 && settings.top_p <= 1)) settings.top_p = Settings{}.top_p;
  return settings;
}

void save_settings(const std::filesystem::path& file, const Settings& settings) {
  const json object = {{"font_size", settings.font_size},
                       {"theme", to_string(settings.theme)},
                       {"window_x", settings.window_x},
                       {"window_y", settings.window_y},
                       {"window_width", settings.window_width},
                       {"window_height", settings.window_height},
                       {"window_maximized", settings.window_maximized},
                       {"prompt_column_share", settings.prompt_column_share},
                       {"token_strip_share", settings.token_strip_share},
                       {"panel", settings.panel},
                       {"last_model", settings.last_model},
                       {"prompt", settings.prompt},
                       {"browse_folder", settings.browse_folder},
                       {"generate_tokens", settings.generate_tokens},
                       {"temperature", settings.temperature},
                       {"top_p", settings.top_p},
                       {"seed", settings.seed},
                       {"load_as_gate_mass", settings.load_as_gate_mass},
                       {"transitions_normalized", settings.transitions_normalized},
                       {"side_by_side", settings.side_by_side},
                       {"word_view", settings.word_view},
                       {"cjk_font", settings.cjk_font},
                       {"tour_seen", settings.tour_seen}};
  std::error_code error;
  if (!file.parent_path().empty()) std::filesystem::create_directories(file.parent_path(), error);
  if (error)
    throw moe::Error("cannot create " + file.parent_path().string() + ": " + error.message());
  const std::filesystem::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw moe::Error("cannot write " + temporary.string() + ": " + std::strerror(errno));
    // The prompt may hold any bytes the user typed: replace invalid UTF-8 rather than throw.
    out << object.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    if (!out) throw moe::Error("cannot write " + temporary.string() + ": write error");
  }
  std::filesystem::rename(temporary, file, error);
  if (error) throw moe::Error("cannot replace " + file.string() + ": " + error.message());
}

}  // namespace moescope::gui
