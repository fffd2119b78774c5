// Training curves: the loss and load-balance figures built from a small hand-made TrainingLog,
// the running mean behind their bold lines, and `moescope-cli plot-training` end to end on a
// generated JSONL log (PNG of the asked size, domains in the SVG, clear errors for bad logs).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "moe/plot/live_training_figures.hpp"
#include "moe/plot/training_figures.hpp"
#include "cli_runner.hpp"

namespace fs = std::filesystem;
namespace plot = moe::plot;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// 30 steps of 64 tokens, loss falling from 8; evals at steps 10, 20, 30 on three domains.
plot::TrainingLog small_log() {
  plot::TrainingLog log;
  log.name = "tiny-moe";
  log.domains = {"english", "code", "maths"};
  log.planned_steps = 100;
  log.batch_tokens = 64;
  for (int s = 1; s <= 30; ++s) {
    plot::TrainingStep step;
    step.step = s;
    step.tokens = 64LL * s;
    step.loss = 8.0 - 0.1 * s + ((s % 2) != 0 ? 0.2 : -0.2);
    step.lr = 1e-3;
    step.load_cv = 0.5 - 0.01 * s;
    step.load_balance = 1.1 - 0.002 * s;
    log.steps.push_back(step);
    if (s % 10 == 0) {
      plot::TrainingEval eval;
      eval.step = s;
      eval.tokens = step.tokens;
      eval.val_loss = {{"code", 6.0 - 0.05 * s}, {"english", 7.0 - 0.05 * s}, {"maths", 3.0}};
      eval.val_loss_mean = (13.0 - 0.1 * s + 3.0) / 3;
      log.evals.push_back(eval);
    }
  }
  return log;
}

bool legend_has(const plot::Figure& figure, const std::string& text) {
  for (const plot::LegendEntry& entry : figure.legend)
    if (entry.label.find(text) != std::string::npos) return true;
  return false;
}

bool notes_have(const plot::Figure& figure, const std::string& text) {
  for (const std::string& note : figure.notes)
    if (note.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(RunningMean, AveragesTheLastWindowOfFiniteValues) {
  const std::vector<double> means = plot::running_mean({1, 2, 3, 4, 5}, 2);
  ASSERT_EQ(means.size(), 5u);
  EXPECT_DOUBLE_EQ(means[0], 1);
  EXPECT_DOUBLE_EQ(means[1], 1.5);
  EXPECT_DOUBLE_EQ(means[4], 4.5);
  // A NaN is skipped, not spread; a window with no finite value stays NaN.
  const std::vector<double> gaps = plot::running_mean({kNaN, 4, kNaN, 8}, 3);
  EXPECT_TRUE(std::isnan(gaps[0]));
  EXPECT_DOUBLE_EQ(gaps[1], 4);
  EXPECT_DOUBLE_EQ(gaps[2], 4);
  EXPECT_DOUBLE_EQ(gaps[3], 6);
  // Window 1 (or less) is the values themselves.
  EXPECT_EQ(plot::running_mean({3, 1, 2}, 0), (std::vector<double>{3, 1, 2}));
}

TEST(TrainingLossFigure, RawAndSmoothedTrainLossAndOneValidationLinePerDomain) {
  const plot::TrainingLog log = small_log();
  const plot::Figure figure = plot::training_loss_figure(log, 5);
  ASSERT_EQ(figure.lines.size(), 2u + 3u);
  EXPECT_EQ(figure.lines[0].xs.size(), 30u);  // raw
  EXPECT_EQ(figure.lines[1].xs.size(), 30u);  // running mean
  EXPECT_LT(figure.lines[0].width, figure.lines[1].width);
  // The running mean of 5 steps at step 30: steps 26..30.
  double expected = 0;
  for (int s = 26; s <= 30; ++s) expected += log.steps[static_cast<size_t>(s - 1)].loss / 5;
  EXPECT_NEAR(figure.lines[1].ys.back(), expected, 1e-12);
  // Domains in the config's order, one point per evaluation, at the eval steps.
  const char* domains[] = {"english", "code", "maths"};
  for (size_t d = 0; d < 3; ++d) {
    const plot::Line& line = figure.lines[2 + d];
    EXPECT_NE(line.label.find(domains[d]), std::string::npos) << line.label;
    EXPECT_TRUE(legend_has(figure, domains[d])) << domains[d];
    ASSERT_EQ(line.xs.size(), 3u);
    EXPECT_EQ(line.xs, (std::vector<double>{10, 20, 30}));
    EXPECT_TRUE(line.markers);
  }
  EXPECT_DOUBLE_EQ(figure.lines[2].ys[0], 6.5);  // english at step 10
  EXPECT_DOUBLE_EQ(figure.lines[3].ys[2], 4.5);  // code at step 30
  // The domains get different colours.
  EXPECT_NE(figure.lines[2].color, figure.lines[3].color);
  EXPECT_NE(figure.lines[3].color, figure.lines[4].color);
  // Axes cover every point; the notes say how far the run got in steps and tokens.
  EXPECT_EQ(figure.x.label, "step");
  EXPECT_NE(figure.y.label.find("loss"), std::string::npos);
  EXPECT_LE(figure.x.min, 1);
  EXPECT_GE(figure.x.max, 30);
  EXPECT_GE(figure.y.max, 8.1);
  EXPECT_LE(figure.y.min, 3.0);
  EXPECT_TRUE(notes_have(figure, "step 30 of 100")) << figure.notes[0];
  EXPECT_TRUE(notes_have(figure, "1920 tokens seen")) << figure.notes[0];
  EXPECT_NE(figure.title.find("tiny-moe"), std::string::npos);
}

TEST(TrainingLossFigure, SkipsMissingValuesAndDomainsNeverEvaluated) {
  plot::TrainingLog log = small_log();
  log.domains.push_back("german");                  // listed, never evaluated: no line
  log.steps[4].loss = kNaN;                         // written as null by the trainer
  log.evals[1].val_loss[2].second = kNaN;           // maths at step 20
  log.evals[2].val_loss.push_back({"extra", 2.0});  // not in the config: drawn after
  const plot::Figure figure = plot::training_loss_figure(log, 5);
  ASSERT_EQ(figure.lines.size(), 2u + 4u);
  EXPECT_EQ(figure.lines[0].xs.size(), 29u);
  EXPECT_EQ(figure.lines[1].xs.size(), 30u);  // the mean of the other steps still exists
  for (double y : figure.lines[1].ys) EXPECT_TRUE(std::isfinite(y));
  EXPECT_EQ(figure.lines[4].xs, (std::vector<double>{10, 30}));  // maths
  EXPECT_NE(figure.lines[5].label.find("extra"), std::string::npos);
  EXPECT_FALSE(legend_has(figure, "german"));
}

TEST(TrainingLossFigure, ValidationOnlyAndEmptyLogs) {
  plot::TrainingLog log = small_log();
  log.steps.clear();
  EXPECT_EQ(plot::training_loss_figure(log).lines.size(), 3u);
  log.evals.clear();
  const plot::Figure empty = plot::training_loss_figure(log);
  EXPECT_TRUE(empty.lines.empty());
  EXPECT_TRUE(notes_have(empty, "no training steps"));
}

// The Train tab's load heatmap keeps one colour scale whatever the run, so a balanced run and a
// collapsed one read fairly side by side (a scale per run made a balanced run's largest cell
// as bright as a collapsed expert).
TEST(LiveLayerShareFigure, OneColourScaleForBalancedAndCollapsedRuns) {
  const auto history = [](std::vector<int64_t> counts) {
    moe::plot::ExpertLoadHistory h;
    h.top_k = 2;
    h.steps = {1};
    h.counts = {{counts}};
    return h;
  };
  const moe::plot::Figure balanced = moe::plot::live_layer_share_figure(history({14, 13, 13, 12, 12, 12, 12, 12}), 1);
  const moe::plot::Figure collapsed = moe::plot::live_layer_share_figure(history({50, 48, 1, 1, 0, 0, 0, 0}), 1);
  ASSERT_TRUE(balanced.color_scale && collapsed.color_scale);
  EXPECT_EQ(balanced.color_scale->max, collapsed.color_scale->max);
  EXPECT_DOUBLE_EQ(balanced.color_scale->max, 0.5);  // the most an expert can take at top-2
  // The balanced run's largest cell (14%) is not drawn like the collapsed run's (50%).
  const auto brightest = [](const moe::plot::Figure& figure) {
    double most = 0;
    moe::plot::Color colour;
    for (const moe::plot::Rect& cell : figure.cells)
      if (cell.value > most) most = cell.value, colour = cell.fill;
    return colour;
  };
  EXPECT_NE(brightest(balanced).luminance(), brightest(collapsed).luminance());
}

TEST(TrainingBalanceFigure, CvAndBalanceLossPerStepWithTheEvenReference) {
  const plot::TrainingLog log = small_log();
  const plot::Figure figure = plot::training_balance_figure(log, 4);
  ASSERT_EQ(figure.lines.size(), 5u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(figure.lines[i].xs.size(), 30u) << i;
  EXPECT_DOUBLE_EQ(figure.lines[0].ys[0], 0.49);                      // raw CV at step 1
  EXPECT_DOUBLE_EQ(figure.lines[2].ys.back(), 1.1 - 0.06);            // raw balance loss at step 30
  EXPECT_NEAR(figure.lines[3].ys.back(), 1.1 - 0.002 * 28.5, 1e-12);  // mean of steps 27..30
  EXPECT_EQ(figure.lines[4].ys, (std::vector<double>{1, 1}));         // even load
  EXPECT_TRUE(figure.lines[4].dashed);
  EXPECT_TRUE(legend_has(figure, "load CV"));
  EXPECT_TRUE(legend_has(figure, "load-balancing loss"));
  EXPECT_GE(figure.y.max, 1.1);
  EXPECT_EQ(figure.x.label, "step");
}

// ---- moescope-cli plot-training ----

namespace {

using moe::testing::CommandResult;
using moe::testing::shell_quote;

// moescope-cli without a display; stdout and stderr together in `out`.
CommandResult run_cli(const std::string& args) {
  return moe::testing::run_cli(args, moe::testing::OutputStreams::Merged);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Width and height from a PNG's IHDR chunk; {0, 0} when the file is no PNG.
std::pair<uint32_t, uint32_t> png_size(const fs::path& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return {0, 0};
  const auto be32 = [&](size_t at) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    return value;
  };
  return {be32(16), be32(20)};
}

// Rows like `moescope-cli train` writes.
std::string config_row() {
  return nlohmann::json{{"type", "config"},
                        {"name", "generated-moe"},
                        {"domains", {"english", "code", "french"}},
                        {"batch_tokens", 128},
                        {"steps", 60},
                        {"model", {{"n_expert", 4}, {"top_k", 2}}}}
             .dump() +
         "\n";
}

std::string train_row(int s) {
  return nlohmann::json{{"type", "train"},
                        {"step", s},
                        {"loss", 7.0 * std::exp(-s / 30.0) + 0.3 * std::sin(s)},
                        {"lr", 1e-3},
                        {"load_cv", 0.4 + 0.05 * std::cos(s)},
                        {"load_balance", 1.02 + 0.01 * std::sin(s)},
                        {"tok_per_s", 5000.0},
                        {"tokens", 128 * s}}
             .dump() +
         "\n";
}

std::string eval_row(int s) {
  const nlohmann::json losses = {
      {"english", 5.0 - s / 30.0}, {"code", 4.0 - s / 40.0}, {"french", 4.5}};
  return nlohmann::json{{"type", "eval"},       {"step", s},
                        {"tokens", 128 * s},    {"val_loss", losses},
                        {"val_loss_mean", 4.0}, {"seconds", 0.5}}
             .dump() +
         "\n";
}

// The config row, steps 1..60, evals every 20 steps.
std::string generated_log() {
  std::string text = config_row();
  for (int s = 1; s <= 60; ++s) {
    text += train_row(s);
    if (s % 20 == 0) text += eval_row(s);
  }
  return text;
}

class PlotTrainingCliTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moescope_plot_training_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "train_log.jsonl") << generated_log();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    if (!fs::exists(MOESCOPE_CLI_PATH))
      GTEST_SKIP() << "moescope-cli is not built at " << MOESCOPE_CLI_PATH;
  }
  static std::string path(const std::string& name) { return shell_quote((dir_ / name).string()); }
  static fs::path dir_;
};
fs::path PlotTrainingCliTest::dir_;

}  // namespace

TEST_F(PlotTrainingCliTest, WritesAPngOfTheAskedSize) {
  const CommandResult r = run_cli("plot-training " + path("train_log.jsonl") + " --out " +
                                  path("loss.png") + " --width 1200 --height 700 --dpi 150");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("60 steps, 3 evaluations"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(dir_ / "loss.png"));
  EXPECT_EQ(png_size(dir_ / "loss.png"), (std::pair<uint32_t, uint32_t>{1200, 700}));

  const CommandResult balance =
      run_cli("plot-training " + path("train_log.jsonl") + " --kind balance --format png --out " +
              path("balance") + " --width 800 --height 500 --dpi 100");
  ASSERT_EQ(balance.exit_code, 0) << balance.out;
  EXPECT_EQ(png_size(dir_ / "balance"), (std::pair<uint32_t, uint32_t>{800, 500}));
}

TEST_F(PlotTrainingCliTest, SvgNamesEveryDomain) {
  const CommandResult r =
      run_cli("plot-training " + path("train_log.jsonl") + " --out " + path("loss.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string svg = read_file(dir_ / "loss.svg");
  for (const char* domain : {"english", "code", "french"})
    EXPECT_NE(svg.find(std::string("val ") + domain), std::string::npos) << domain;
  EXPECT_NE(svg.find("generated-moe"), std::string::npos);
}

TEST_F(PlotTrainingCliTest, ResumedRunsAndAnUnfinishedLastLine) {
  // A run resumed from step 40 repeats steps 41..60: the later rows win. The last line is
  // cut short, as while the trainer writes it.
  std::string text = generated_log();
  for (int s = 41; s <= 60; ++s) text += train_row(s);
  text += "{\"type\":\"train\",\"step\":61,\"lo";
  std::ofstream(dir_ / "resumed.jsonl") << text;
  const CommandResult r =
      run_cli("plot-training " + path("resumed.jsonl") + " --out " + path("resumed.png"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("60 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unfinished"), std::string::npos) << r.out;
}

TEST_F(PlotTrainingCliTest, BadLogsGiveOneClearLineNamingTheLine) {
  std::string log = generated_log();
  const size_t third = log.find('\n', log.find('\n') + 1) + 1;  // start of line 3
  std::ofstream(dir_ / "bad.jsonl") << log.substr(0, third) << "{not json}\n" << log.substr(third);
  CommandResult r = run_cli("plot-training " + path("bad.jsonl") + " --out " + path("bad.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("bad.jsonl:3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not a JSON row"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "bad.png"));

  std::ofstream(dir_ / "wrongtype.jsonl") << "{\"type\":\"train\",\"step\":1,\"loss\":\"high\"}\n";
  r = run_cli("plot-training " + path("wrongtype.jsonl") + " --out " + path("bad.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("wrongtype.jsonl:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"loss\""), std::string::npos) << r.out;

  std::ofstream(dir_ / "empty.jsonl") << "";
  r = run_cli("plot-training " + path("empty.jsonl") + " --out " + path("bad.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("is empty"), std::string::npos) << r.out;

  std::ofstream(dir_ / "config_only.jsonl") << log.substr(0, log.find('\n') + 1);
  r = run_cli("plot-training " + path("config_only.jsonl") + " --out " + path("bad.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no training steps"), std::string::npos) << r.out;

  r = run_cli("plot-training " + path("missing.jsonl") + " --out " + path("bad.png"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("missing.jsonl"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "bad.png"));
}
