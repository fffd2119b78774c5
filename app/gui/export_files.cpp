#include "export_files.hpp"

#include <cstdlib>
#include <sstream>

#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/utf8.hpp"
#include "moe/routing_data.hpp"
#include "moe/routing_stats.hpp"
#include "profile_source.hpp"
#include "token_text.hpp"

namespace moescope::gui {

namespace fs = std::filesystem;

fs::path default_export_folder() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return fs::path(home) / "moescope-exports";
  std::error_code error;
  const fs::path current = fs::current_path(error);
  return error ? fs::path(".") : current;
}

std::string file_stem_for(const std::string& title) {
  std::string stem;
  for (char c : title) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9')) {
      stem += c;
    } else if (u >= 'A' && u <= 'Z') {
      stem += static_cast<char>(u - 'A' + 'a');
    } else if (!stem.empty() && stem.back() != '-') {
      stem += '-';
    }
    if (stem.size() >= 60) break;
  }
  while (!stem.empty() && stem.back() == '-') stem.pop_back();
  return stem.empty() ? "figure" : stem;
}

const char* data_export_extension(DataExport kind) {
  return kind == DataExport::TraceJson ? ".json" : ".csv";
}

std::vector<moe::RoutingTokenInfo> snapshot_token_infos(const Snapshot& snapshot) {
  if (!snapshot.model) throw moe::Error("no model is open: there is no routing to export");
  const moe::RoutingTrace& trace = snapshot.trace;
  std::vector<moe::RoutingTokenInfo> tokens;
  for (int t = 0; t < trace.n_tokens() && t < static_cast<int>(snapshot.tokens.size()); ++t) {
    const TokenView& token = snapshot.tokens[static_cast<size_t>(t)];
    tokens.push_back({t, token.id, moe::replace_invalid_utf8(token.piece)});
  }
  if (static_cast<int>(tokens.size()) < trace.n_tokens())
    throw moe::Error("the routing is still being computed: export again in a moment");
  return tokens;
}

nlohmann::json snapshot_routing_json(const Snapshot& snapshot) {
  const std::vector<moe::RoutingTokenInfo> tokens = snapshot_token_infos(snapshot);
  const ModelInfo& model = *snapshot.model;
  const moe::RoutingModelInfo info{model.name, model.path, model.config.architecture,
                                   model.config.n_layer};
  return moe::routing_to_json(info, tokens, snapshot.trace);
}

void export_snapshot_data(const Snapshot& snapshot, DataExport kind, const fs::path& path) {
  if (snapshot.profile) {  // pooled counts: the load table is all there is
    if (kind != DataExport::LoadCsv)
      throw moe::Error(profile_has_no_tokens(*snapshot.profile) +
                       " Export the load CSV, or close the profile to export the prompt's trace.");
    std::ostringstream out;
    moe::write_load_csv(out, snapshot.stats, snapshot.trace.top_k());
    prepare_export_folder(path);
    moe::write_file_atomically(path, out.str());
    return;
  }
  const std::vector<moe::RoutingTokenInfo> tokens = snapshot_token_infos(snapshot);
  const moe::RoutingTrace& trace = snapshot.trace;
  std::ostringstream out;
  switch (kind) {
    case DataExport::TraceJson:
      out << snapshot_routing_json(snapshot).dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace)
          << "\n";
      break;
    case DataExport::TraceCsv:
      moe::write_routing_csv(out, tokens, trace);
      break;
    case DataExport::LoadCsv:
      moe::write_load_csv(out, moe::compute_routing_stats(trace), trace.top_k());
      break;
  }
  prepare_export_folder(path);
  moe::write_file_atomically(path, out.str());
}

void prepare_export_folder(const fs::path& path) {
  const fs::path folder = path.parent_path();
  std::error_code error;
  if (folder.empty() || fs::exists(folder, error)) return;
  if (folder == default_export_folder()) {
    fs::create_directories(folder, error);
    if (error) throw moe::Error("cannot create " + folder.string() + ": " + error.message());
  }
}

}  // namespace moescope::gui
