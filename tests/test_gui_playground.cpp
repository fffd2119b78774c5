// The worker's playground on a generated model: interventions reach the session (the trace says
// which), their effect is measured against the unchanged model, invalid ones are refused with a
// message, prompts compare, an expert's vocabulary comes from the domain prompt sets, and the
// compute counter follows the routing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "moe/random_model.hpp"
#include "worker.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;
using namespace std::chrono_literals;

namespace {

class GuiPlayground : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moescope_test_playground_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "prompts");
    moe::RandomModelSpec spec;
    spec.n_layer = 2;
    spec.n_expert = 4;
    spec.n_expert_used = 2;
    spec.seed = 5;
    moe::write_random_model(spec, (dir_ / "model.gguf").string());
    std::ofstream(dir_ / "prompts" / "maths.txt") << "Solve 15 x 8\nWhat is 7 + 5?\n";
    std::ofstream(dir_ / "prompts" / "poems.txt") << "Write a poem about the sea\n";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    WorkerOptions options;
    options.n_threads = 1;
    worker_ = std::make_unique<Worker>(options);
    worker_->load_model((dir_ / "model.gguf").string());
    worker_->set_prompt("The quick brown fox jumps over the lazy dog");
    ASSERT_TRUE(worker_->wait_idle(60s));
  }

  static fs::path dir_;
  std::unique_ptr<Worker> worker_;
};
fs::path GuiPlayground::dir_;

TEST_F(GuiPlayground, KnockOutChangesTheRoutingAndItsEffectIsMeasured) {
  auto before = worker_->snapshot();
  ASSERT_TRUE(before->playground && before->playground->compute);
  EXPECT_FALSE(before->playground->effect) << "no intervention, no effect";
  EXPECT_NEAR(before->playground->compute->mean_active_experts, 2.0, 1e-9);

  moe::RoutingInterventions interventions;
  interventions.disabled.push_back({moe::kAllLayers, 1});
  interventions.top_k = 1;
  worker_->set_interventions(interventions);
  ASSERT_TRUE(worker_->wait_idle(60s));
  auto after = worker_->snapshot();
  EXPECT_EQ(after->trace.interventions(), interventions);
  for (int t = 0; t < after->trace.n_tokens(); ++t) {
    for (int layer : after->trace.moe_layers()) {
      const moe::RoutingRecord& record = after->trace.at(t, layer);
      ASSERT_EQ(record.experts.size(), 1u);
      EXPECT_NE(record.experts[0], 1) << "a knocked-out expert was chosen";
    }
  }
  ASSERT_TRUE(after->playground && after->playground->effect);
  const EffectView& effect = *after->playground->effect;
  EXPECT_EQ(effect.interventions, interventions);
  EXPECT_GT(effect.effect->next_token_kl, 0.0);
  EXPECT_FALSE(effect.next_tokens.empty());
  EXPECT_NEAR(after->playground->compute->mean_active_experts, 1.0, 1e-9);

  // Continuations side by side, with the same seed.
  moe::SamplingOptions sampling;
  sampling.temperature = 0;
  worker_->compare_continuations(6, sampling);
  ASSERT_TRUE(worker_->wait_idle(60s));
  const auto continued = worker_->snapshot();
  ASSERT_TRUE(continued->playground->effect);
  EXPECT_EQ(continued->playground->effect->effect->base.continuation.size(), 6u);
  EXPECT_EQ(continued->playground->effect->effect->changed.continuation.size(), 6u);

  worker_->set_interventions({});
  ASSERT_TRUE(worker_->wait_idle(60s));
  EXPECT_TRUE(worker_->snapshot()->trace.interventions().empty());
  EXPECT_FALSE(worker_->snapshot()->playground->effect);
}

TEST_F(GuiPlayground, InvalidInterventionsAreRefusedWithAMessage) {
  moe::RoutingInterventions all_off;
  for (int e = 0; e < 4; ++e) all_off.disabled.push_back({moe::kAllLayers, e});
  worker_->take_messages();
  worker_->set_interventions(all_off);
  ASSERT_TRUE(worker_->wait_idle(60s));
  const std::vector<WorkerMessage> messages = worker_->take_messages();
  ASSERT_FALSE(messages.empty());
  EXPECT_TRUE(messages.front().error);
  EXPECT_TRUE(worker_->snapshot()->trace.interventions().empty()) << "the session kept its routing";
}

TEST_F(GuiPlayground, ComparesPromptsAndExplainsAnExpert) {
  worker_->set_compare_prompt("Solve 15 x 8");
  ASSERT_TRUE(worker_->wait_idle(60s));
  auto snapshot = worker_->snapshot();
  ASSERT_TRUE(snapshot->playground && snapshot->playground->comparison);
  const moe::LoadComparison& comparison = *snapshot->playground->comparison;
  EXPECT_EQ(comparison.layers, snapshot->trace.moe_layers());
  for (const auto& row : comparison.difference) {
    double sum = 0;
    for (double d : row) sum += d;
    EXPECT_NEAR(sum, 0.0, 1e-9) << "both shares sum to 1, so the differences sum to 0";
  }

  const int layer = snapshot->trace.moe_layers().front();
  worker_->explain_expert(layer, 2, dir_ / "prompts");
  ASSERT_TRUE(worker_->wait_idle(60s));
  snapshot = worker_->snapshot();
  ASSERT_TRUE(snapshot->playground->vocabulary);
  const ExpertVocabularyView& view = *snapshot->playground->vocabulary;
  EXPECT_EQ(view.vocabulary.layer, layer);
  EXPECT_EQ(view.vocabulary.expert, 2);
  EXPECT_EQ(view.n_texts, 3);
  EXPECT_EQ(view.token_texts.size(), view.vocabulary.top_tokens.size());
  ASSERT_EQ(view.vocabulary.domains.size(), 2u);
  EXPECT_EQ(view.vocabulary.domains[0].domain, "maths");
  EXPECT_LE(view.vocabulary.routed, view.vocabulary.tokens);
  // The comparison stays while other requests come and go.
  EXPECT_TRUE(snapshot->playground->comparison);
}

}  // namespace
