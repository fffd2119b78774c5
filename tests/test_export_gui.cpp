// The desktop app's export files, without a window: the data export of a snapshot reads back into
// the same trace and load table, file names come from figure titles, the default folder is
// ~/moescope-exports, and exporting with no model says so.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "export_files.hpp"
#include "moe/error.hpp"
#include "moe/routing_data.hpp"
#include "moe/routing_stats.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;

namespace {

Snapshot small_snapshot() {
  Snapshot snapshot;
  auto model = std::make_shared<ModelInfo>();
  model->name = "tiny";
  model->path = "/models/tiny.gguf";
  model->config.architecture = "llama";
  model->config.n_layer = 2;
  snapshot.model = model;
  snapshot.trace = moe::RoutingTrace(2, 4, 2, {0, 1});
  const char* pieces[] = {"<s>", "Hi", ",", "\xD0"};  // the last: half a Cyrillic letter
  for (int t = 0; t < 4; ++t) {
    snapshot.tokens.push_back({100 + t, pieces[t], pieces[t]});
    for (int layer = 0; layer < 2; ++layer) {
      moe::RoutingRecord record;
      record.logits = {0.1f * t, 0.2f, -0.3f, 0.05f * layer};
      record.probs = {0.4f, 0.3f, 0.2f, 0.1f};
      record.experts = {t % 4, (t + 1 + layer) % 4};
      record.weights = {0.625f, 0.375f};
      snapshot.trace.set(t, layer, record);
    }
  }
  return snapshot;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(ExportGui, SnapshotDataReadsBackIntoTheSameNumbers) {
  const fs::path dir =
      fs::temp_directory_path() / ("moescope_export_gui_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const Snapshot snapshot = small_snapshot();

  export_snapshot_data(snapshot, DataExport::TraceJson, dir / "trace.json");
  const nlohmann::json json = nlohmann::json::parse(read_file(dir / "trace.json"));
  EXPECT_EQ(json.at("schema_version"), moe::kRoutingSchemaVersion);
  EXPECT_EQ(json.at("model"), "tiny");
  EXPECT_EQ(json.at("tokens").at(3).at("text"), "\xEF\xBF\xBD");  // invalid UTF-8 replaced
  const moe::RoutingTrace back = moe::routing_trace_from_json(json);
  for (int t = 0; t < 4; ++t) {
    for (int layer = 0; layer < 2; ++layer) {
      EXPECT_EQ(back.at(t, layer).logits, snapshot.trace.at(t, layer).logits);
      EXPECT_EQ(back.at(t, layer).experts, snapshot.trace.at(t, layer).experts);
      EXPECT_EQ(back.at(t, layer).weights, snapshot.trace.at(t, layer).weights);
    }
  }

  export_snapshot_data(snapshot, DataExport::TraceCsv, dir / "trace.csv");
  std::ifstream trace_csv(dir / "trace.csv");
  const auto rows = moe::read_routing_csv(trace_csv);
  ASSERT_EQ(rows.size(), 4u * 2u * 4u);
  EXPECT_EQ(rows[2 * 2 * 4].text, ",");  // token 2 is a comma: quoted, read back whole

  export_snapshot_data(snapshot, DataExport::LoadCsv, dir / "load.csv");
  std::ifstream load_csv(dir / "load.csv");
  const auto loads = moe::read_load_csv(load_csv);
  const moe::RoutingStats stats = moe::compute_routing_stats(snapshot.trace);
  ASSERT_EQ(loads.size(), 2u * 4u);
  for (const moe::LoadCsvRow& row : loads) {
    EXPECT_EQ(
        row.token_count,
        stats.layers[static_cast<size_t>(row.layer)].token_counts[static_cast<size_t>(row.expert)]);
  }
  fs::remove_all(dir);
}

TEST(ExportGui, NoModelMeansNothingToExport) {
  Snapshot empty;
  EXPECT_THROW(
      export_snapshot_data(empty, DataExport::TraceJson, fs::temp_directory_path() / "never.json"),
      moe::Error);
  EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "never.json"));
}

TEST(ExportGui, FileNamesComeFromTitlesAndTheFolderFromHome) {
  EXPECT_EQ(file_stem_for("Expert load at layer 2 (12 tokens)"),
            "expert-load-at-layer-2-12-tokens");
  EXPECT_EQ(file_stem_for("Path of \"é\" (token 3)"), "path-of-token-3");
  EXPECT_EQ(file_stem_for("???"), "figure");
  EXPECT_LE(file_stem_for(std::string(200, 'a')).size(), 60u);
  const char* home = std::getenv("HOME");
  if (home && *home) {
    EXPECT_EQ(default_export_folder(), fs::path(home) / "moescope-exports");
  }
}
