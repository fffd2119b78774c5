// Live training on the bundled corpus sample (the GUI's Train tab): the sample tokenizes with
// the bundled model's tokenizer, a few steps lower the loss, the load-balancing loss keeps the
// experts' load more even than training without it (expert collapse), the domain
// specialization is measured, and the model being trained exports to a GGUF the inference
// engine opens and routes. Two runs of 25 steps on the real sample: about ten seconds.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <random>

#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/live_training.hpp"
#include "moe/model.hpp"
#include "moe/plot/live_training_figures.hpp"
#include "moe/session.hpp"

namespace moe::train {
namespace {

namespace fs = std::filesystem;

const fs::path kAssets = fs::path(MOESCOPE_SOURCE_DIR) / "assets";
constexpr int kSteps = 25;

double mean_cv_of_last(const std::vector<LiveStep>& steps, size_t n) {
  double sum = 0;
  for (size_t i = steps.size() - n; i < steps.size(); ++i) sum += steps[i].load_cv;
  return sum / static_cast<double>(n);
}

// CTest runs every test in its own process: the sample is tokenized, and the two runs trained,
// only by the tests that use them (and once per process).
const std::shared_ptr<const LiveTrainingData>& sample_data() {
  static const std::shared_ptr<const LiveTrainingData> data = load_live_training_data(
      kAssets / "train" / "sample", kAssets / "models" / "v1" / "moescope-moe-tiny.gguf", 2);
  return data;
}

// The same seed and data order, with the load-balancing loss off and at its default weight.
struct Runs {
  std::unique_ptr<LiveTraining> collapsed, balanced;
};
const Runs& runs() {
  static const Runs trained = [] {
    LiveTrainingKnobs collapse;
    collapse.load_balance = 0;
    Runs r{
        std::make_unique<LiveTraining>(sample_data(), collapse, LiveTrainingShape{}, 2),
        std::make_unique<LiveTraining>(sample_data(), LiveTrainingKnobs{}, LiveTrainingShape{}, 2)};
    for (int i = 0; i < kSteps; ++i) {
      r.collapsed->step();
      r.balanced->step();
    }
    return r;
  }();
  return trained;
}

TEST(LiveTraining, SampleHasEveryDomainInCorpusOrder) {
  const std::vector<std::string> expected = {"english", "code",    "german", "french",
                                             "spanish", "russian", "maths"};
  EXPECT_EQ(sample_data()->domains, expected);
  EXPECT_EQ(sample_data()->tokenizer.n_vocab(), 4096);
  EXPECT_GT(sample_data()->train_tokens, 200'000);
  EXPECT_GT(sample_data()->val_tokens, 40'000);
  for (const DomainTokens& domain : sample_data()->corpus.domains()) {
    EXPECT_GT(domain.val.size(), 4u * 64u + 1u) << domain.name << " has too few validation tokens";
  }
}

void check_StepsLowerTheLossAndRecordTheLoad() {
  SCOPED_TRACE("StepsLowerTheLossAndRecordTheLoad");
  const std::vector<LiveStep>& steps = runs().balanced->steps();
  ASSERT_EQ(steps.size(), static_cast<size_t>(kSteps));
  EXPECT_EQ(runs().balanced->steps_done(), kSteps);
  EXPECT_NEAR(steps.front().loss, std::log(4096.0), 0.5) << "a fresh model guesses uniformly";
  EXPECT_LT(steps.back().loss, steps.front().loss - 1.0);
  const LiveTrainingShape shape;
  for (const LiveStep& step : steps) {
    ASSERT_EQ(step.expert_counts.size(), static_cast<size_t>(shape.n_layer));
    for (const std::vector<int64_t>& counts : step.expert_counts) {
      ASSERT_EQ(counts.size(), 8u);
      int64_t total = 0;
      for (int64_t c : counts) total += c;
      EXPECT_EQ(total, int64_t{shape.seq_len} * shape.batch_seqs * 2);  // top-2
    }
    EXPECT_GE(step.top_share, 1.0 / 8);
    EXPECT_LE(step.top_share, 0.5 + 1e-9);  // with top-2 an expert is chosen at most once a token
  }
}

void check_BalancingLossKeepsTheLoadMoreEvenThanWithout() {
  SCOPED_TRACE("BalancingLossKeepsTheLoadMoreEvenThanWithout");
  // Same seed, same data order: only the load-balancing weight differs.
  const double cv_collapsed = mean_cv_of_last(runs().collapsed->steps(), 5);
  const double cv_balanced = mean_cv_of_last(runs().balanced->steps(), 5);
  EXPECT_GT(cv_collapsed, 1.3 * cv_balanced)
      << "CV without balancing " << cv_collapsed << ", with " << cv_balanced;
  EXPECT_GT(runs().collapsed->steps().back().top_share, runs().balanced->steps().back().top_share);
  EXPECT_GT(runs().collapsed->steps().back().load_balance,
            runs().balanced->steps().back().load_balance);
}

void check_MeasuresDomainSpecializationEveryFewSteps() {
  SCOPED_TRACE("MeasuresDomainSpecializationEveryFewSteps");
  const LiveTrainingShape shape;
  const std::vector<LiveSpecialization>& measured = runs().balanced->specializations();
  ASSERT_EQ(measured.size(), static_cast<size_t>(1 + kSteps / shape.specialization_every));
  EXPECT_EQ(measured.front().step, 0);
  EXPECT_EQ(measured.back().step, kSteps / shape.specialization_every * shape.specialization_every);
  for (const LiveSpecialization& s : measured) {
    ASSERT_EQ(s.mi_bits.size(), static_cast<size_t>(shape.n_layer));
    for (double mi : s.mi_bits) {
      EXPECT_GE(mi, 0);
      EXPECT_LE(mi, std::log2(7.0) + 1e-9);
    }
    long long tokens = 0;
    for (const auto& row : s.top1[0])
      for (long long c : row) tokens += c;
    EXPECT_EQ(tokens, 7LL * shape.specialization_windows * shape.seq_len);
  }
}

void check_ExportOpensAndRoutesInTheInferenceEngine() {
  SCOPED_TRACE("ExportOpensAndRoutesInTheInferenceEngine");
  const fs::path path = fs::temp_directory_path() /
                        ("moescope_live_" + std::to_string(std::random_device{}()) + ".gguf");
  runs().balanced->export_gguf(path);
  {
    const std::shared_ptr<const Model> model = Model::load(path);
    EXPECT_EQ(model->config().n_expert, 8);
    EXPECT_EQ(model->config().n_expert_used, 2);
    const Tokenizer tokenizer = Tokenizer::from_gguf(model->file());
    EXPECT_EQ(tokenizer.n_vocab(), 4096);
    SessionOptions options;
    options.n_ctx = 64;
    Session session(model, std::make_shared<CpuBackend>(CpuBackendOptions{1}), options);
    const std::vector<int32_t> prompt = tokenizer.encode("Solve 15 × 8");
    session.set_tokens(prompt);
    const RoutingTrace& trace = session.trace();
    ASSERT_EQ(trace.n_tokens(), static_cast<int>(prompt.size()));
    ASSERT_EQ(trace.moe_layers().size(), 4u);
    for (int token = 0; token < trace.n_tokens(); ++token) {
      for (int layer : trace.moe_layers()) {
        const RoutingRecord& record = trace.at(token, layer);
        ASSERT_EQ(record.experts.size(), 2u);
        for (int32_t e : record.experts) EXPECT_TRUE(e >= 0 && e < 8);
      }
    }
    for (float logit : session.last_logits()) ASSERT_TRUE(std::isfinite(logit));
  }
  fs::remove(path);
}

void check_FiguresShowEveryExpertAndLayer() {
  SCOPED_TRACE("FiguresShowEveryExpertAndLayer");
  plot::ExpertLoadHistory history;
  for (const LiveStep& step : runs().collapsed->steps()) {
    history.steps.push_back(step.step);
    history.counts.push_back(step.expert_counts);
  }
  const plot::Figure share = plot::live_expert_share_figure(history, 1, 5);
  EXPECT_EQ(share.lines.size(), 1u + 8u);  // even-share reference, then one per expert
  EXPECT_EQ(share.lines[1].xs.size(), static_cast<size_t>(kSteps));
  const plot::Figure heatmap = plot::live_layer_share_figure(history, 5);
  ASSERT_EQ(heatmap.cells.size(), 4u * 8u);
  for (int layer = 0; layer < 4; ++layer) {
    double row = 0;
    for (const plot::Rect& cell : heatmap.cells)
      if (cell.row == layer) row += cell.value;
    EXPECT_NEAR(row, 1.0, 1e-9) << "layer " << layer;
  }
  std::vector<int64_t> steps;
  std::vector<std::vector<double>> mi;
  for (const LiveSpecialization& s : runs().collapsed->specializations()) {
    steps.push_back(s.step);
    mi.push_back(s.mi_bits);
  }
  EXPECT_EQ(plot::live_specialization_figure(steps, mi, 7).lines.size(), 4u);
  EXPECT_FALSE(plot::live_expert_share_figure({}, 0).notes.empty());  // "no training steps yet"
}

// One test for everything that needs the two trained runs (about ten seconds).
TEST(LiveTraining, TrainsWithAndWithoutTheBalancingLoss) {
  check_StepsLowerTheLossAndRecordTheLoad();
  check_BalancingLossKeepsTheLoadMoreEvenThanWithout();
  check_MeasuresDomainSpecializationEveryFewSteps();
  check_ExportOpensAndRoutesInTheInferenceEngine();
  check_FiguresShowEveryExpertAndLayer();
}

TEST(LiveTrainingKnobsTest, BadKnobsAndMissingDataGiveClearErrors) {
  LiveTrainingKnobs knobs;
  knobs.top_k = 9;
  EXPECT_THROW(knobs.validate(), Error);
  knobs = {};
  knobs.load_balance = -1;
  EXPECT_THROW(knobs.validate(), Error);
  knobs = {};
  knobs.n_expert = 1;
  EXPECT_THROW(knobs.validate(), Error);
  EXPECT_NO_THROW(LiveTrainingKnobs{}.validate());
  try {
    load_live_training_data(kAssets / "no-such-folder", kAssets / "models" / "x.gguf");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-folder"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace moe::train
