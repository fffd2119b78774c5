// moescope-cli plot and route's data files end to end, with no display: every kind in every
// format for a generated model, the route JSON's schema version, the load CSV, --out written
// atomically, and clear errors for unknown formats and unwritable paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.hpp"
#include "moe/routing_data.hpp"

namespace fs = std::filesystem;

namespace {

using moe::testing::CliWorkspace;
using moe::testing::CommandResult;

// moescope-cli without a display; stdout and stderr together in `out`.
CommandResult run_cli(const std::string& args) {
  return moe::testing::run_cli(args, moe::testing::OutputStreams::Merged);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ExportCliTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    moe::RandomModelSpec spec = moe::testing::cli_test_model(5);
    spec.dense_layers.clear();  // every layer routed: plots for layers 0, 1 and 2
    workspace_ = std::make_unique<CliWorkspace>("moescope_export_cli", spec);
    fs::create_directories(dir() / "prompts");
    std::ofstream(dir() / "prompts" / "maths.txt") << "Solve 15 x 8\nWhat is 2^10?\n\n";
    std::ofstream(dir() / "prompts" / "poems.txt") << "Write a poem about the sea\nRoses are red\n";
    std::ofstream(dir() / "list.txt") << "first prompt\nsecond, longer prompt\n";
  }
  static void TearDownTestSuite() { workspace_.reset(); }
  static const fs::path& dir() { return workspace_->dir(); }
  static std::string model() { return workspace_->model(); }
  static std::string path(const std::string& name) { return workspace_->arg(name); }
  static inline std::unique_ptr<CliWorkspace> workspace_;
};

}  // namespace

TEST_F(ExportCliTest, WritesEveryKindInEveryFormatWithoutADisplay) {
  const std::string kinds[] = {"load", "heatmap", "layers", "path", "coactivation", "transitions"};
  for (const std::string& kind : kinds) {
    for (const std::string format : {"png", "svg", "pdf"}) {
      const std::string name = "plot-" + kind + "." + format;
      const CommandResult r =
          run_cli("plot " + model() + " --prompts " + path("list.txt") + " --kind " + kind +
                  " --out " + path(name) + " --width 640 --height 400 --dpi 100 --threads 1");
      ASSERT_EQ(r.exit_code, 0) << kind << " " << format << ": " << r.out;
      const std::string bytes = read_file(dir() / name);
      const std::string magic = format == "png" ? "\x89PNG" : format == "svg" ? "<?xml" : "%PDF-";
      EXPECT_EQ(bytes.substr(0, magic.size()), magic) << name;
    }
  }
  // domains: one file per MoE layer without --layer, one file with it.
  for (const std::string format : {"png", "svg", "pdf"}) {
    const CommandResult r =
        run_cli("plot " + model() + " --domains " + path("prompts") +
                " --kind domains --threads 1 --out " + path("domains." + format));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (int layer = 0; layer < 3; ++layer)
      EXPECT_TRUE(fs::exists(dir() / ("domains-L" + std::to_string(layer) + "." + format)))
          << r.out;
  }
  const CommandResult one =
      run_cli("plot " + model() + " --domains " + path("prompts") +
              " --kind domains --layer 1 --format svg --out " + path("one.svg"));
  ASSERT_EQ(one.exit_code, 0) << one.out;
  const std::string one_svg = read_file(dir() / "one.svg");
  EXPECT_NE(one_svg.find(">maths ("), std::string::npos);
  EXPECT_NE(one_svg.find(">poems ("), std::string::npos);
  EXPECT_NE(one_svg.find("at layer 1<"), std::string::npos);
  // A single prompt and a chosen token and layer.
  const CommandResult path_plot = run_cli(
      "plot " + model() + " --prompt 'the sea' --kind path --token 1 --out " + path("token.svg"));
  ASSERT_EQ(path_plot.exit_code, 0) << path_plot.out;
  EXPECT_NE(read_file(dir() / "token.svg").find("(token 1)"), std::string::npos);
}

TEST_F(ExportCliTest, BadArgumentsGiveOneClearLine) {
  CommandResult r = run_cli("plot " + model() + " --prompt hi --kind load --out " + path("x.bmp"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("unknown image format '.bmp'"), std::string::npos) << r.out;
  r = run_cli("plot " + model() + " --prompt hi --kind load --out " + path("missing/x.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir() / "missing"));
  r = run_cli("plot " + model() + " --prompt hi --kind load --layer 7 --out " + path("x.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("not a MoE layer"), std::string::npos) << r.out;
  r = run_cli("plot " + model() + " --prompt hi --kind domains --out " + path("x.png"));
  EXPECT_NE(r.out.find("--domains DIR"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir() / "x.png"));
}

TEST_F(ExportCliTest, RouteWritesVersionedJsonAndLoadCsvToAFile) {
  CommandResult r =
      run_cli("route " + model() + " --prompt 'Solve 15 x 8' --json --out " + path("trace.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(r.out.empty()) << "stdout should stay empty with --out: " << r.out;
  const nlohmann::json json = nlohmann::json::parse(read_file(dir() / "trace.json"));
  EXPECT_EQ(json.at("schema_version"), moe::kRoutingSchemaVersion);
  const moe::RoutingTrace trace = moe::routing_trace_from_json(json);
  EXPECT_EQ(trace.n_tokens(), static_cast<int>(json.at("tokens").size()));

  r = run_cli("route " + model() + " --prompt 'Solve 15 x 8' --csv --table load --out " +
              path("load.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream load_file(dir() / "load.csv");
  const std::vector<moe::LoadCsvRow> rows = moe::read_load_csv(load_file);
  ASSERT_EQ(rows.size(), 3u * 8u);
  int64_t total = 0;
  for (const moe::LoadCsvRow& row : rows) {
    if (row.layer == 0) total += row.token_count;
  }
  EXPECT_EQ(total, static_cast<int64_t>(trace.n_tokens()) * 2);  // top-2 of every token

  r = run_cli("route " + model() + " --prompt hi --csv --out " + path("trace.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream trace_file(dir() / "trace.csv");
  const std::vector<moe::RoutingCsvRow> trace_rows = moe::read_routing_csv(trace_file);
  ASSERT_FALSE(trace_rows.empty());
  // One row per (token, layer, expert).
  EXPECT_EQ(trace_rows.size(), static_cast<size_t>(trace_rows.back().token + 1) * 3u * 8u);

  r = run_cli("route " + model() + " --prompt hi --json --table load");
  EXPECT_NE(r.exit_code, 0);
  r = run_cli("route " + model() + " --prompt hi --json --out " + path("nowhere/t.json"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("cannot write"), std::string::npos) << r.out;
}
