// The app's worker thread on a generated random model: snapshots are published, rapid prompts
// coalesce to the latest, only the changed suffix is recomputed, generation streams tokens, and
// a failed load keeps the current model.
#include <gtest/gtest.h>

#include <cmath>
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

TEST_F(GuiWorker, RoutesThePromptSetsAndPublishesDomainSpecialization) {
  const fs::path prompts = dir_ / "domain_prompts";
  fs::create_directories(prompts);
  std::ofstream(prompts / "code.txt") << "int main() { return 0; }\nfor (i = 0; i < n; ++i)\n";
  std::ofstream(prompts / "german.txt") << "Guten Morgen\n\nWie geht es dir?\n";
  std::ofstream(prompts / "notes.md") << "not a prompt set";

  Worker worker(options());
  worker.load_model(model_path());
  worker.set_prompt("hello");
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_EQ(worker.snapshot()->domains, nullptr);
  const auto tokens_before = worker.snapshot()->tokens.size();

  worker.compute_domains(prompts);
  ASSERT_TRUE(worker.wait_idle(120s));
  EXPECT_FALSE(worker.domains_pending());
  EXPECT_TRUE(worker.take_messages().empty());
  const auto snapshot = worker.snapshot();
  ASSERT_NE(snapshot->domains, nullptr);
  const DomainResult& result = *snapshot->domains;
  EXPECT_EQ(result.model_generation, snapshot->model_generation);
  EXPECT_EQ(result.domains, (std::vector<std::string>{"code", "german"}));
  EXPECT_EQ(result.n_prompts, 4);
  EXPECT_EQ(result.top_k, 2);
  ASSERT_EQ(result.stats.size(), 2u);
  // Byte-level vocabulary: one token per byte, the BOS token left out.
  EXPECT_EQ(result.stats[0].n_tokens, static_cast<int>(std::string("int main() { return 0; }").size() +
                                                       std::string("for (i = 0; i < n; ++i)").size()));
  EXPECT_EQ(result.stats[1].n_tokens,
            static_cast<int>(std::string("Guten Morgen").size() + std::string("Wie geht es dir?").size()));
  // Two MoE layers (layer 1 is dense).
  ASSERT_EQ(result.specialization.size(), 2u);
  for (const moe::LayerSpecialization& layer : result.specialization) {
    EXPECT_GE(layer.mi_bits, 0.0);
    EXPECT_LE(layer.mi_bits, std::log2(2.0) + 1e-9);
    ASSERT_EQ(layer.load_share.size(), 2u);
    for (const auto& row : layer.load_share) {
      ASSERT_EQ(row.size(), 4u);
      double sum = 0;
      for (double share : row) sum += share;
      EXPECT_NEAR(sum, 1.0, 1e-9);
    }
  }
  // The user's prompt is back in the session and in the snapshot.
  EXPECT_EQ(snapshot->prompt, "hello");
  EXPECT_EQ(snapshot->tokens.size(), tokens_before);
  EXPECT_EQ(snapshot->trace.n_tokens(), static_cast<int>(tokens_before));

  // The result stays with later prompts on the same model ...
  worker.set_prompt("hello world");
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_EQ(worker.snapshot()->domains, snapshot->domains);
  // ... and is dropped with another model.
  worker.load_model(model_path());
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_EQ(worker.snapshot()->domains, nullptr);
}

TEST_F(GuiWorker, DomainComputationGivesWayToPromptsAndIsDroppedByALoad) {
  const fs::path prompts = dir_ / "domain_prompts_many";
  fs::create_directories(prompts);
  {
    std::ofstream a(prompts / "a.txt"), b(prompts / "b.txt");
    for (int i = 0; i < 40; ++i) {
      a << "alpha prompt number " << i << "\n";
      b << "beta prompt number " << i << "\n";
    }
  }
  Worker worker(options());
  worker.load_model(model_path());
  ASSERT_TRUE(worker.wait_idle(60s));
  worker.compute_domains(prompts);
  worker.set_prompt("typed while routing");  // served first; the domains resume afterwards
  ASSERT_TRUE(worker.wait_idle(120s));
  ASSERT_NE(worker.snapshot()->domains, nullptr);
  EXPECT_EQ(worker.snapshot()->domains->n_prompts, 80);
  EXPECT_EQ(worker.snapshot()->prompt, "typed while routing");

  worker.compute_domains(prompts);
  worker.load_model(model_path());  // another model: the computation is dropped
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_FALSE(worker.domains_pending());
  EXPECT_EQ(worker.snapshot()->domains, nullptr);
}

}  // namespace
