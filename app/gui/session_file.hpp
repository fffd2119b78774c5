#pragma once
// Saving and reopening a session: the model path, the prompt, the generated tokens, the view
// (panel, layer, token, view options, generation settings, the open corpus profile) and the
// routing trace, as one JSON file (File > Save session / Open session, drag and drop, or
// `moescope FILE.moescope.json`).
//
// Reopening recomputes the routing from the model and the tokens (the model is deterministic),
// and compares it with the saved trace, so a model file that changed since is noticed instead
// of silently showing other numbers under the old name. The saved trace also makes the file
// useful on its own: it is the `route --json` document under "routing".
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "moe/routing.hpp"
#include "settings.hpp"
#include "worker.hpp"

namespace moescope::gui {

inline constexpr int kSessionFormatVersion = 1;
inline constexpr const char* kSessionFormatName = "moescope-session";
inline constexpr const char* kSessionExtension = ".moescope.json";

struct SessionView {
  std::string panel = "router";
  int layer = -1;
  int token = -1;
  bool token_pinned = false;
  bool load_as_gate_mass = false;
  bool transitions_normalized = true;
  int generate_tokens = 24;
  float temperature = 0.8f;
  float top_p = 0.95f;
  uint64_t seed = 42;
  // The corpus profile the pooled views show (absolute when saved by moescope; "": none).
  std::string profile_path;
};

struct SavedSession {
  std::string model_path;           // absolute when saved by moescope
  std::string model_path_relative;  // to the session file's folder; tried when model_path is gone
  std::string profile_path_relative;  // likewise for view.profile_path
  std::string prompt;
  std::vector<int32_t> prompt_tokens;     // as computed when saved (BOS included)
  std::vector<int32_t> generated_tokens;  // after the prompt
  SessionView view;
  std::optional<moe::RoutingTrace> trace;  // the saved routing (absent in hand-written files)
};

nlohmann::json session_to_json(const Snapshot& snapshot, const SessionView& view);
// Writes atomically; throws moe::Error naming the path on failure.
void save_session(const std::filesystem::path& path, const Snapshot& snapshot,
                  const SessionView& view);
// Throws moe::Error naming the path and the field for anything missing or malformed.
SavedSession session_from_json(const nlohmann::json& document, const std::string& source);
SavedSession load_session(const std::filesystem::path& path);
// True for a file name ending in .moescope.json (what drag and drop and the command line treat
// as a session rather than a model).
bool is_session_file(const std::filesystem::path& path);

// Positions and layers where the recomputed routing chose other experts than the saved one
// (first few, for a message); empty when they agree over the positions both have.
std::vector<std::string> routing_differences(const moe::RoutingTrace& saved,
                                             const moe::RoutingTrace& recomputed,
                                             size_t max_reported = 5);

}  // namespace moescope::gui
