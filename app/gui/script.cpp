#include "script.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // key codes only

#include "moe/error.hpp"

namespace moescope::gui {

namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char next = text[i + 1];
      if (next == 'n') {
        out += '\n';
        ++i;
        continue;
      }
      if (next == 't') {
        out += '\t';
        ++i;
        continue;
      }
      if (next == '\\') {
        out += '\\';
        ++i;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

struct CommandShape {
  ScriptKind kind;
  enum Argument { None, Text, Number } argument;
};

const std::map<std::string, CommandShape, std::less<>>& commands() {
  static const std::map<std::string, CommandShape, std::less<>> table = {
      {"model", {ScriptKind::Model, CommandShape::Text}},
      {"demo-model", {ScriptKind::DemoModel, CommandShape::Text}},
      {"prompt", {ScriptKind::Prompt, CommandShape::Text}},
      {"type", {ScriptKind::Type, CommandShape::Text}},
      {"wait", {ScriptKind::Wait, CommandShape::None}},
      {"generate", {ScriptKind::Generate, CommandShape::Number}},
      {"select-token", {ScriptKind::SelectToken, CommandShape::Number}},
      {"hover-token", {ScriptKind::HoverToken, CommandShape::Number}},
      {"layer", {ScriptKind::Layer, CommandShape::Number}},
      {"panel", {ScriptKind::Panel, CommandShape::Text}},
      {"theme", {ScriptKind::Theme, CommandShape::Text}},
      {"font-size", {ScriptKind::FontSize, CommandShape::Number}},
      {"open-dialog", {ScriptKind::OpenDialog, CommandShape::None}},
      {"close-dialog", {ScriptKind::CloseDialog, CommandShape::None}},
      {"save-session", {ScriptKind::SaveSession, CommandShape::Text}},
      {"open-session", {ScriptKind::OpenSession, CommandShape::Text}},
      {"export-figure", {ScriptKind::ExportFigure, CommandShape::Text}},
      {"export-data", {ScriptKind::ExportData, CommandShape::Text}},
      {"disable-expert", {ScriptKind::DisableExpert, CommandShape::Text}},
      {"top-k", {ScriptKind::TopK, CommandShape::Number}},
      {"routing", {ScriptKind::Routing, CommandShape::Text}},
      {"reset-routing", {ScriptKind::ResetRouting, CommandShape::None}},
      {"explain-expert", {ScriptKind::ExplainExpert, CommandShape::Number}},
      {"compare-prompt", {ScriptKind::ComparePrompt, CommandShape::Text}},
      {"tour", {ScriptKind::Tour, CommandShape::Number}},
      {"press", {ScriptKind::Press, CommandShape::Text}},
      {"presenter", {ScriptKind::Presenter, CommandShape::Number}},
      {"key", {ScriptKind::Key, CommandShape::Text}},
      {"drop", {ScriptKind::Drop, CommandShape::Text}},
      {"connect", {ScriptKind::Connect, CommandShape::Text}},
      {"import-trace", {ScriptKind::ImportTrace, CommandShape::Text}},
      {"cancel-request", {ScriptKind::CancelRequest, CommandShape::None}},
      {"open", {ScriptKind::Drop, CommandShape::Text}},  // what File > Open does with a path
      {"frames", {ScriptKind::Frames, CommandShape::Number}},
      {"screenshot", {ScriptKind::Screenshot, CommandShape::Text}},
      {"expect-error", {ScriptKind::ExpectError, CommandShape::None}},
      {"train-knob", {ScriptKind::TrainKnob, CommandShape::Text}},
      {"train-reset", {ScriptKind::TrainReset, CommandShape::None}},
      {"train-steps", {ScriptKind::TrainSteps, CommandShape::Number}},
      {"exit", {ScriptKind::Exit, CommandShape::None}}};
  return table;
}

}  // namespace

std::vector<ScriptCommand> parse_script(std::string_view text,
                                        const std::vector<std::string>& view_keys) {
  std::vector<ScriptCommand> script;
  int line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.find_first_of(" \t");
    const std::string_view name = line.substr(0, space);
    const std::string_view argument =
        space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));
    const std::string where = "script line " + std::to_string(line_number) + ": ";
    const auto it = commands().find(name);
    if (it == commands().end())
      throw moe::Error(where + "unknown command '" + std::string(name) + "'");
    ScriptCommand command;
    command.kind = it->second.kind;
    command.line = line_number;
    switch (it->second.argument) {
      case CommandShape::None:
        if (!argument.empty())
          throw moe::Error(where + "'" + std::string(name) + "' takes no argument");
        break;
      case CommandShape::Text:
        if (argument.empty())
          throw moe::Error(where + "'" + std::string(name) + "' needs an argument");
        command.text = unescape(argument);
        break;
      case CommandShape::Number: {
        const auto result =
            std::from_chars(argument.data(), argument.data() + argument.size(), command.number);
        if (argument.empty() || result.ec != std::errc() ||
            result.ptr != argument.data() + argument.size()) {
          throw moe::Error(where + "'" + std::string(name) + "' needs a whole number, got '" +
                           std::string(argument) + "'");
        }
        break;
      }
    }
    if (command.kind == ScriptKind::Panel &&
        std::find(view_keys.begin(), view_keys.end(), command.text) == view_keys.end()) {
      std::string known;
      for (const std::string& key : view_keys) known += (known.empty() ? "" : ", ") + key;
      throw moe::Error(where + "unknown panel '" + command.text + "' (" + known + ")");
    }
    if (command.kind == ScriptKind::Theme && command.text != "dark" && command.text != "light") {
      throw moe::Error(where + "theme is 'dark' or 'light', not '" + command.text + "'");
    }
    if (command.kind == ScriptKind::ExportData) {
      // "KIND FILE": the kind goes to `number` (a DataExport value), the file to `text`.
      static const char* const kKinds[] = {"trace-json", "trace-csv", "load-csv"};
      const auto gap = command.text.find_first_of(" \t");
      const std::string kind = command.text.substr(0, gap);
      const auto kind_it = std::find(std::begin(kKinds), std::end(kKinds), kind);
      if (kind_it == std::end(kKinds) || gap == std::string::npos) {
        throw moe::Error(where + "export-data needs KIND FILE, KIND one of trace-json, "
                                 "trace-csv, load-csv");
      }
      command.number = static_cast<int>(kind_it - std::begin(kKinds));
      command.text = std::string(trim(command.text.substr(gap)));
    }
    if (command.kind == ScriptKind::Key) {
      // The key goes to `number` as its GLFW key code (the GLFW backend's ImGui key index).
      static const std::map<std::string, int> kKeys = {
          {"left", GLFW_KEY_LEFT}, {"right", GLFW_KEY_RIGHT},   {"up", GLFW_KEY_UP},
          {"down", GLFW_KEY_DOWN}, {"tab", GLFW_KEY_TAB},       {"escape", GLFW_KEY_ESCAPE},
          {"f5", GLFW_KEY_F5}};
      const auto key = kKeys.find(command.text);
      if (key == kKeys.end())
        throw moe::Error(where + "key is one of left, right, up, down, tab, escape, f5, not '" +
                         command.text + "'");
      command.number = key->second;
    }
    if ((command.kind == ScriptKind::Frames || command.kind == ScriptKind::Generate) &&
        command.number < 0) {
      throw moe::Error(where + "the count must not be negative");
    }
    script.push_back(std::move(command));
  }
  return script;
}

}  // namespace moescope::gui
