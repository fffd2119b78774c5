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
  // A negative layer or token: the same clear line naming what is valid, not CLI11's range up
  // to a 300-digit double (issue 16).
  r = run_cli("plot " + model() + " --prompt hi --kind load --layer -1 --out " + path("x.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--layer -1 is not a MoE layer (MoE layers: "), std::string::npos) << r.out;
  EXPECT_LT(r.out.size(), 200u) << r.out;
  r = run_cli("plot " + model() + " --prompt hi --kind path --token -1 --out " + path("x.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--token -1 is not a token position (0 to "), std::string::npos) << r.out;
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

TEST_F(ExportCliTest, TransitionsFromTheLastMoeLayerAreAClearError) {
  // MoE layers 0, 1, 2: layer 2 has no next MoE layer to go to.
  const CommandResult r =
      run_cli("plot " + model() + " --prompt hi --kind transitions --layer 2 --threads 1 --out " +
              path("last.svg"));
  EXPECT_NE(r.exit_code, 0) << "it must not silently draw layers 1 -> 2: " << r.out;
  EXPECT_NE(r.out.find("layer 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0, 1"), std::string::npos) << "names the layers that work: " << r.out;
  EXPECT_FALSE(fs::exists(dir() / "last.svg"));
  const CommandResult ok =
      run_cli("plot " + model() + " --prompt hi --kind transitions --layer 1 --threads 1 --out " +
              path("middle.svg"));
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(read_file(dir() / "middle.svg").find("from layer 1 to layer 2"), std::string::npos);
}

// An SVG file without its <title> (the document's name, not drawn): what the figure shows.
std::string drawn_svg(const fs::path& path) {
  std::string svg = read_file(path);
  const size_t title = svg.find("<title>");
  if (title != std::string::npos) svg.erase(title, svg.find("</title>") - title);
  return svg;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ExportCliTest, PooledPromptsPrintTheTokenCountOnce) {
  const CommandResult r = run_cli("plot " + model() + " --prompts " + path("list.txt") +
                                  " --kind load --threads 1 --out " + path("pooled.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string svg = drawn_svg(dir() / "pooled.svg");
  const size_t open = svg.find("layer 0 (");
  ASSERT_NE(open, std::string::npos) << svg.substr(0, 2000);
  const std::string count = svg.substr(open + 9, svg.find(' ', open + 9) - (open + 9));
  EXPECT_EQ(occurrences(svg, count + " tokens"), 1u) << "the count " << count << " twice";
  EXPECT_NE(svg.find("2 prompts"), std::string::npos) << "still says the prompts were pooled";
}

TEST_F(ExportCliTest, PlotCanLeaveOutTitleAndNotesAndUsePaperPresets) {
  CommandResult r = run_cli("plot " + model() +
                            " --prompt 'the sea' --kind load --no-title --no-notes --threads 1 "
                            "--out " +
                            path("bare.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string bare = drawn_svg(dir() / "bare.svg");
  EXPECT_EQ(bare.find("Expert load at layer"), std::string::npos);
  EXPECT_EQ(bare.find("CV "), std::string::npos);
  EXPECT_NE(bare.find("class=\"bar\""), std::string::npos);
  r = run_cli("plot " + model() +
              " --prompt 'the sea' --kind heatmap --paper single --threads 1 "
              "--out " +
              path("column.pdf"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("237.6 x"), std::string::npos) << "3.3 in wide: " << r.out;
  r = run_cli("plot " + model() +
              " --prompt 'the sea' --kind heatmap --paper double --threads 1 "
              "--out " +
              path("page.png"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2100 x"), std::string::npos) << "7 in at 300 dpi: " << r.out;
}
