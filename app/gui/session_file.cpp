#include "session_file.hpp"

#include <fstream>
#include <sstream>

#include "export_files.hpp"
#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/routing_data.hpp"

namespace moescope::gui {

namespace fs = std::filesystem;
using nlohmann::json;

nlohmann::json session_to_json(const Snapshot& snapshot, const SessionView& view) {
  json prompt_tokens = json::array(), generated_tokens = json::array();
  for (size_t i = 0; i < snapshot.tokens.size(); ++i) {
    const bool generated = static_cast<int>(i) >= snapshot.n_prompt_tokens;
    (generated ? generated_tokens : prompt_tokens).push_back(snapshot.tokens[i].id);
  }
  // Absolute, so the session opens from any working folder.
  std::string model_path;
  if (snapshot.model && !snapshot.model->path.empty()) {
    std::error_code ignored;
    model_path = fs::absolute(snapshot.model->path, ignored).lexically_normal().string();
  }
  json document{{"format", kSessionFormatName},
              {"version", kSessionFormatVersion},
              {"model_path", model_path},
              {"prompt", snapshot.prompt},
              {"prompt_tokens", prompt_tokens},
              {"generated_tokens", generated_tokens},
              {"view",
               {{"panel", view.panel},
                {"layer", view.layer},
                {"token", view.token},
                {"token_pinned", view.token_pinned},
                {"load_as_gate_mass", view.load_as_gate_mass},
                {"transitions_normalized", view.transitions_normalized}}},
              {"generation",
               {{"tokens", view.generate_tokens},
                {"temperature", view.temperature},
                {"top_p", view.top_p},
                {"seed", view.seed}}},
              {"routing", snapshot_routing_json(snapshot)}};
  if (!view.profile_path.empty()) {
    std::error_code ignored;
    document["profile_path"] = fs::absolute(view.profile_path, ignored).lexically_normal().string();
  }
  return document;
}

void save_session(const fs::path& path, const Snapshot& snapshot, const SessionView& view) {
  json document = session_to_json(snapshot, view);
  // Also the model's and the profile's paths relative to the session file, so that a folder
  // holding them all (a teacher's handout, a copied USB stick) still opens where the absolute
  // paths no longer exist.
  std::error_code failed;
  const fs::path folder = fs::absolute(path, failed).parent_path().lexically_normal();
  for (const std::string key : {"model_path", "profile_path"}) {
    const std::string saved = document.value(key, "");
    if (saved.empty() || failed) continue;
    const fs::path relative = fs::path(saved).lexically_relative(folder);
    if (!relative.empty()) document[key + "_relative"] = relative.generic_string();
  }
  const std::string text = document.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
  moe::write_file_atomically(path, text);
}

namespace {

// Typed access with errors that name the file and the field.
class Reader {
public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  const json& field(const json& object, const char* key, const char* where) const {
    if (!object.is_object() || !object.contains(key))
      throw moe::Error(source_ + ": missing \"" + key + "\" in " + where);
    return object.at(key);
  }
  template <typename T>
  T get(const json& object, const char* key, const char* where, T fallback) const {
    if (!object.is_object() || !object.contains(key)) return fallback;
    try {
      return object.at(key).get<T>();
    } catch (const json::exception&) {
      throw moe::Error(source_ + ": \"" + key + "\" in " + where + " has the wrong type");
    }
  }
  std::vector<int32_t> token_ids(const json& object, const char* key) const {
    std::vector<int32_t> ids;
    if (!object.contains(key)) return ids;
    const json& array = object.at(key);
    if (!array.is_array()) throw moe::Error(source_ + ": \"" + key + "\" is not a list");
    for (const json& id : array) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
        throw moe::Error(source_ + ": \"" + key + "\" holds something that is not a token id");
      ids.push_back(id.get<int32_t>());
    }
    return ids;
  }
private:
  std::string source_;
};

}  // namespace

SavedSession session_from_json(const json& document, const std::string& source) {
  const Reader r(source);
  if (!document.is_object() || document.value("format", "") != kSessionFormatName)
    throw moe::Error(source + ": not a moescope session (no \"format\": \"" +
                     std::string(kSessionFormatName) + "\")");
  const int version = r.get<int>(document, "version", "the file", 0);
  if (version < 1 || version > kSessionFormatVersion)
    throw moe::Error(source + ": session format version " + std::to_string(version) +
                     " is not one this moescope reads (1.." +
                     std::to_string(kSessionFormatVersion) + ")");
  SavedSession session;
  if (!r.field(document, "model_path", "the file").is_string())
    throw moe::Error(source + ": \"model_path\" is not a string");
  session.model_path = document.at("model_path").get<std::string>();
  session.model_path_relative = r.get<std::string>(document, "model_path_relative", "the file", "");
  session.prompt = r.get<std::string>(document, "prompt", "the file", "");
  session.prompt_tokens = r.token_ids(document, "prompt_tokens");
  session.generated_tokens = r.token_ids(document, "generated_tokens");
  SessionView& view = session.view;
  if (document.contains("view")) {
    const json& v = document.at("view");
    view.panel = r.get<std::string>(v, "panel", "view", view.panel);
    view.layer = r.get<int>(v, "layer", "view", view.layer);
    view.token = r.get<int>(v, "token", "view", view.token);
    view.token_pinned = r.get<bool>(v, "token_pinned", "view", view.token_pinned);
    view.load_as_gate_mass = r.get<bool>(v, "load_as_gate_mass", "view", view.load_as_gate_mass);
    view.transitions_normalized =
        r.get<bool>(v, "transitions_normalized", "view", view.transitions_normalized);
  }
  if (document.contains("generation")) {
    const json& g = document.at("generation");
    view.generate_tokens = r.get<int>(g, "tokens", "generation", view.generate_tokens);
    view.temperature = r.get<float>(g, "temperature", "generation", view.temperature);
    view.top_p = r.get<float>(g, "top_p", "generation", view.top_p);
    view.seed = r.get<uint64_t>(g, "seed", "generation", view.seed);
  }
  view.profile_path = r.get<std::string>(document, "profile_path", "the file", "");
  session.profile_path_relative =
      r.get<std::string>(document, "profile_path_relative", "the file", "");
  if (document.contains("routing")) {
    try {
      session.trace = moe::routing_trace_from_json(document.at("routing"));
    } catch (const std::exception& error) {
      throw moe::Error(source + ": routing: " + error.what());
    }
  }
  return session;
}

namespace {

// A relative path is relative to the session file (sessions saved beside their models move
// together). Moved together with the file it names: the saved absolute path is gone, the one
// relative to the session is there.
void resolve_saved_path(std::string& saved, const std::string& relative_to_session,
                        const fs::path& session_folder) {
  const fs::path file(saved);
  if (!file.empty() && file.is_relative()) saved = (session_folder / file).string();
  std::error_code ignored;
  if (!saved.empty() && !fs::exists(saved, ignored) && !relative_to_session.empty()) {
    const fs::path beside = (session_folder / relative_to_session).lexically_normal();
    if (fs::exists(beside, ignored)) saved = beside.string();
  }
}

}  // namespace

SavedSession load_session(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw moe::Error("cannot read " + path.string());
  json document;
  try {
    document = json::parse(in);
  } catch (const json::exception& error) {
    throw moe::Error(path.string() + ": not valid JSON (" + error.what() + ")");
  }
  SavedSession session = session_from_json(document, path.string());
  resolve_saved_path(session.model_path, session.model_path_relative, path.parent_path());
  resolve_saved_path(session.view.profile_path, session.profile_path_relative, path.parent_path());
  return session;
}

bool is_session_file(const fs::path& path) {
  const std::string name = path.filename().string();
  const std::string extension = kSessionExtension;
  return name.size() > extension.size() &&
         name.compare(name.size() - extension.size(), extension.size(), extension) == 0;
}

std::vector<std::string> routing_differences(const moe::RoutingTrace& saved,
                                             const moe::RoutingTrace& recomputed,
                                             size_t max_reported) {
  std::vector<std::string> differences;
  if (saved.n_expert() != recomputed.n_expert() || saved.moe_layers() != recomputed.moe_layers()) {
    differences.push_back("the model has other experts or MoE layers than the saved routing");
    return differences;
  }
  const int n_tokens = std::min(saved.n_tokens(), recomputed.n_tokens());
  for (int t = 0; t < n_tokens; ++t) {
    for (int layer : saved.moe_layers()) {
      if (!saved.has(t, layer) || !recomputed.has(t, layer)) continue;
      if (saved.at(t, layer).experts != recomputed.at(t, layer).experts) {
        if (differences.size() < max_reported) {
          differences.push_back("token " + std::to_string(t) + ", layer " + std::to_string(layer));
        } else {
          differences.push_back("\xE2\x80\xA6");
          return differences;
        }
      }
    }
  }
  return differences;
}

}  // namespace moescope::gui
