// The app's worker thread on a generated random model: snapshots are published, rapid prompts
// coalesce to the latest, only the changed suffix is recomputed, generation streams tokens, and
// a failed load keeps the current model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "moe/random_model.hpp"
#include "worker.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;
using namespace std::chrono_literals;

namespace {

class GuiWorker : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moescope_test_gui_worker_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    moe::RandomModelSpec spec;
    spec.n_layer = 3;
    spec.dense_layers = {1};
    spec.n_expert = 4;
    spec.n_expert_used = 2;
    spec.n_ctx = 1024;
    spec.seed = 3;
    moe::write_random_model(spec, model_path());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string model_path() { return (dir_ / "model.gguf").string(); }

  static WorkerOptions options() {
    WorkerOptions options;
    options.n_threads = 1;
    options.chunk_tokens = 8;
    return options;
  }

  static fs::path dir_;
};
fs::path GuiWorker::dir_;

TEST_F(GuiWorker, PublishesASnapshotWithTokensTraceAndStats) {
  Worker worker(options());
  EXPECT_EQ(worker.snapshot()->model, nullptr);
  worker.load_model(model_path());
  worker.set_prompt("Solve 15 × 8");
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto snapshot = worker.snapshot();
  ASSERT_NE(snapshot->model, nullptr);
  EXPECT_TRUE(snapshot->model->random_weights);
  EXPECT_EQ(snapshot->model->config.n_expert, 4);
  EXPECT_EQ(snapshot->prompt, "Solve 15 × 8");
  EXPECT_TRUE(snapshot->complete);
  // Byte-level vocabulary: a BOS token, then one token per byte ("×" is two bytes).
  EXPECT_EQ(snapshot->tokens.size(), 1u + std::string("Solve 15 × 8").size());
  EXPECT_TRUE(snapshot->tokens.front().special);
  EXPECT_EQ(snapshot->tokens[1].text, "S");
  EXPECT_EQ(snapshot->trace.n_tokens(), static_cast<int>(snapshot->tokens.size()));
  EXPECT_EQ(snapshot->trace.moe_layers(), (std::vector<int>{0, 2}));
  ASSERT_EQ(snapshot->stats.layers.size(), 2u);
  int64_t total = 0;
  for (int64_t count : snapshot->stats.layers[0].token_counts) total += count;
  EXPECT_EQ(total, 2 * static_cast<int64_t>(snapshot->tokens.size()));
  EXPECT_GT(snapshot->latency_ms, 0);
  EXPECT_TRUE(worker.take_messages().empty());
}

TEST_F(GuiWorker, EditingThePromptRecomputesOnlyTheChangedSuffix) {
  Worker worker(options());
  worker.load_model(model_path());
  worker.set_prompt("Write a poem about peace");
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto before = worker.snapshot();
  worker.set_prompt("Write a poem about peas");
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto after = worker.snapshot();
  const int common = 1 + static_cast<int>(std::string("Write a poem about pea").size());
  EXPECT_EQ(after->reused_tokens, common);
  EXPECT_EQ(after->computed_tokens, static_cast<int>(after->tokens.size()) - common);
  // The shared prefix routes exactly as before (the cache was reused, not recomputed).
  for (int t = 0; t < common; ++t) {
    EXPECT_EQ(after->trace.at(t, 0).experts, before->trace.at(t, 0).experts);
    EXPECT_EQ(after->trace.at(t, 2).probs, before->trace.at(t, 2).probs);
  }
  EXPECT_GT(after->version, before->version);
}

TEST_F(GuiWorker, RapidPromptsCoalesceToTheLatest) {
  Worker worker(options());
  worker.load_model(model_path());
  ASSERT_TRUE(worker.wait_idle(60s));
  // A long prompt per keystroke, as fast as possible: the worker cannot keep up and must skip.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "The quick brown fox. ";
    worker.set_prompt(text);
  }
  ASSERT_TRUE(worker.wait_idle(120s));
  const auto snapshot = worker.snapshot();
  EXPECT_EQ(snapshot->prompt, text);
  EXPECT_EQ(snapshot->tokens.size(), 1 + text.size());
  EXPECT_TRUE(snapshot->complete);
  const WorkerCounters counters = worker.counters();
  EXPECT_EQ(counters.prompts_posted, 40u);
  EXPECT_LT(counters.prompts_started, 40u);  // some were replaced before they started
  EXPECT_GE(counters.prompts_completed, 1u);
}

TEST_F(GuiWorker, APromptLongerThanTheContextIsCutWithAWarning) {
  Worker worker(options());
  worker.load_model(model_path());
  worker.set_prompt(std::string(1500, 'x'));
  ASSERT_TRUE(worker.wait_idle(120s));
  const auto snapshot = worker.snapshot();
  EXPECT_EQ(snapshot->tokens.size(), 1024u);
  EXPECT_NE(snapshot->warning.find("1024"), std::string::npos) << snapshot->warning;
  EXPECT_TRUE(worker.take_messages().empty());
}

TEST_F(GuiWorker, LongPromptPublishesPartialProgressAndCanBeAbandoned) {
  WorkerOptions slow = options();
  slow.chunk_tokens = 4;
  slow.publish_interval_ms = 0;  // publish after every chunk
  Worker worker(slow);
  worker.load_model(model_path());
  ASSERT_TRUE(worker.wait_idle(60s));
  const std::string long_prompt(600, 'a');
  worker.set_prompt(long_prompt);
  bool saw_partial = false;
  for (int i = 0; i < 20000 && !saw_partial; ++i) {
    const auto snapshot = worker.snapshot();
    saw_partial = !snapshot->complete && !snapshot->tokens.empty();
    std::this_thread::sleep_for(100us);
  }
  worker.set_prompt("short");
  ASSERT_TRUE(worker.wait_idle(120s));
  EXPECT_TRUE(saw_partial);
  EXPECT_EQ(worker.snapshot()->prompt, "short");
  EXPECT_GE(worker.counters().prompts_abandoned, 1u);
}

TEST_F(GuiWorker, GenerationAppendsMarkedTokensAndAPromptEditDropsThem) {
  Worker worker(options());
  worker.load_model(model_path());
  worker.set_prompt("Once upon a time");
  ASSERT_TRUE(worker.wait_idle(60s));
  const size_t prompt_tokens = worker.snapshot()->tokens.size();
  GenerateRequest request;
  request.n_tokens = 6;
  request.sampling.temperature = 0.8f;
  request.sampling.seed = 5;
  worker.generate(request);
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto generated = worker.snapshot();
  ASSERT_GT(generated->tokens.size(), prompt_tokens);
  EXPECT_LE(generated->tokens.size(), prompt_tokens + 6);
  EXPECT_EQ(generated->n_prompt_tokens, static_cast<int>(prompt_tokens));
  EXPECT_FALSE(generated->tokens[prompt_tokens - 1].generated);
  EXPECT_TRUE(generated->tokens[prompt_tokens].generated);
  EXPECT_EQ(generated->trace.n_tokens(), static_cast<int>(generated->tokens.size()));

  worker.set_prompt("Once upon a time!");
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto edited = worker.snapshot();
  EXPECT_EQ(edited->tokens.size(), prompt_tokens + 1);
  for (const TokenView& token : edited->tokens) EXPECT_FALSE(token.generated);
}

TEST_F(GuiWorker, AFailedLoadReportsWhyAndKeepsTheModel) {
  Worker worker(options());
  worker.load_model(model_path());
  worker.set_prompt("hello");
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto before = worker.snapshot();
  std::ofstream(dir_ / "broken.gguf") << "this is not a GGUF file";
  worker.load_model((dir_ / "broken.gguf").string());
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto messages = worker.take_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].error);
  EXPECT_NE(messages[0].text.find("broken.gguf"), std::string::npos) << messages[0].text;
  EXPECT_EQ(worker.snapshot()->model, before->model);  // the same model stays
  worker.set_prompt("hello again");
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_EQ(worker.snapshot()->prompt, "hello again");
  EXPECT_EQ(worker.snapshot()->model_generation, before->model_generation);
}

TEST_F(GuiWorker, DemoModelIsWrittenOnceAndOpened) {
  Worker worker(options());
  const fs::path demo = dir_ / "demo" / "demo.gguf";
  moe::RandomModelSpec spec;
  spec.name = "moescope-random-demo";
  worker.load_demo_model(demo.string(), spec);
  worker.set_prompt("x");
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_TRUE(fs::exists(demo));
  ASSERT_NE(worker.snapshot()->model, nullptr);
  EXPECT_EQ(worker.snapshot()->model->name, "moescope-random-demo");
  EXPECT_TRUE(worker.snapshot()->model->random_weights);
}

}  // namespace
