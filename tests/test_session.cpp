// Session: prefix reuse when the prompt is edited, append, generation, perplexity, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"
#include "reference_architectures.hpp"

namespace {

class SessionTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    moe::RandomModelSpec spec;
    spec.n_embd = 64, spec.n_layer = 3, spec.n_head = 4, spec.n_head_kv = 2,
    spec.dense_layers = {1};
    spec.n_ff = 64, spec.n_expert = 8, spec.n_expert_used = 2, spec.n_ff_exp = 32, spec.seed = 31;
    file_ = new moe::testing::TempModelFile(spec);
    model_ = new std::shared_ptr<const moe::Model>(file_->load());
    backend_ = new std::shared_ptr<moe::Backend>(
        std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{2}));
  }
  static void TearDownTestSuite() {
    delete backend_;
    delete model_;
    delete file_;
  }

  static moe::Session make_session(moe::SessionOptions options = {.n_ctx = 64}) {
    return moe::Session(*model_, *backend_, options);
  }
  static const moe::Model& model() { return **model_; }

  static void expect_same_state(const moe::Session& a, const moe::Session& b) {
    EXPECT_EQ(a.tokens(), b.tokens());
    EXPECT_LE(moe::testing::max_relative_difference(a.last_logits(), b.last_logits()), 1e-5);
    ASSERT_EQ(a.trace().n_tokens(), b.trace().n_tokens());
    for (int t = 0; t < a.trace().n_tokens(); ++t) {
      for (int layer : model().config().moe_layers()) {
        EXPECT_EQ(a.trace().at(t, layer).experts, b.trace().at(t, layer).experts)
            << t << "/" << layer;
      }
    }
  }

  static inline moe::testing::TempModelFile* file_ = nullptr;
  static inline std::shared_ptr<const moe::Model>* model_ = nullptr;
  static inline std::shared_ptr<moe::Backend>* backend_ = nullptr;
};

const std::vector<int32_t> kPrompt = {256, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100};

TEST_F(SessionTest, EditedPromptReusesPrefixAndEqualsFreshRun) {
  moe::Session session = make_session();
  session.set_tokens(kPrompt);
  EXPECT_EQ(session.reused_tokens(), 0);
  EXPECT_EQ(session.computed_tokens(), 13);
  EXPECT_EQ(session.trace().n_tokens(), 13);

  std::vector<int32_t> edited(kPrompt.begin(), kPrompt.begin() + 7);
  edited.insert(edited.end(), {33, 33, 63});
  session.set_tokens(edited);
  EXPECT_EQ(session.reused_tokens(), 7);
  EXPECT_EQ(session.computed_tokens(), 3);

  moe::Session fresh = make_session();
  fresh.set_tokens(edited);
  expect_same_state(session, fresh);
}

TEST_F(SessionTest, ShorteningRecomputesOnlyTheLastTokenAndSameTokensComputeNothing) {
  moe::Session session = make_session();
  session.set_tokens(kPrompt);
  const std::vector<int32_t> shorter(kPrompt.begin(), kPrompt.begin() + 5);
  session.set_tokens(shorter);
  EXPECT_EQ(session.reused_tokens(), 4);
  EXPECT_EQ(session.computed_tokens(), 1);
  moe::Session fresh = make_session();
  fresh.set_tokens(shorter);
  expect_same_state(session, fresh);

  session.set_tokens(shorter);
  EXPECT_EQ(session.reused_tokens(), 5);
  EXPECT_EQ(session.computed_tokens(), 0);
}

TEST_F(SessionTest, AppendEqualsSettingTheConcatenation) {
  moe::Session session = make_session({.n_ctx = 64, .prefill_chunk = 4});  // chunked prefill too
  session.set_tokens(std::span(kPrompt).first(6));
  session.append(std::span(kPrompt).subspan(6));
  EXPECT_EQ(session.reused_tokens(), 6);
  EXPECT_EQ(session.computed_tokens(), 7);
  moe::Session whole = make_session();
  whole.set_tokens(kPrompt);
  expect_same_state(session, whole);
}

TEST_F(SessionTest, GenerationIsDeterministicForASeed) {
  const moe::SamplingOptions sampling{.temperature = 1.0f, .top_p = 0.9f, .seed = 42};
  std::vector<std::vector<int32_t>> runs;
  for (int run = 0; run < 2; ++run) {
    moe::Session session = make_session();
    session.set_tokens(kPrompt);
    runs.push_back(session.generate(12, sampling));
    EXPECT_EQ(session.tokens().size(), kPrompt.size() + 12);
  }
  EXPECT_EQ(runs[0], runs[1]);

  moe::Session other_seed = make_session();
  other_seed.set_tokens(kPrompt);
  EXPECT_NE(other_seed.generate(12, {.temperature = 1.0f, .top_p = 0.9f, .seed = 43}), runs[0]);
}

TEST_F(SessionTest, GreedyGenerationFollowsArgmaxAndCallbackStops) {
  moe::Session session = make_session();
  session.set_tokens(kPrompt);
  std::vector<int32_t> expected;
  {
    moe::Session stepper = make_session();
    stepper.set_tokens(kPrompt);
    for (int i = 0; i < 5; ++i) {
      const int32_t next = moe::argmax(stepper.last_logits());
      expected.push_back(next);
      stepper.append(std::span(&next, 1));
    }
  }
  int calls = 0;
  const auto generated = session.generate(10, {}, [&](int32_t) { return ++calls < 5; });
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(generated, expected);
  EXPECT_EQ(session.computed_tokens(), 1);
  EXPECT_EQ(session.trace().n_tokens(), static_cast<int>(kPrompt.size()) + 5);
}

TEST_F(SessionTest, ContextOverflowAndBadTokensAreErrorsThatKeepTheSession) {
  moe::Session session = make_session({.n_ctx = 16});
  session.set_tokens(kPrompt);
  const std::vector<float> logits(session.last_logits().begin(), session.last_logits().end());

  const std::vector<int32_t> too_long(17, 65);
  EXPECT_THROW(session.set_tokens(too_long), moe::Error);
  const std::vector<int32_t> four(4, 65);
  try {
    session.append(four);
    ADD_FAILURE() << "appending past the context must fail";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("context overflow"), std::string::npos)
        << error.what();
  }
  const std::vector<int32_t> bad = {65, 5000};
  EXPECT_THROW(session.append(bad), moe::Error);
  EXPECT_EQ(session.tokens(), kPrompt);
  EXPECT_TRUE(std::equal(logits.begin(), logits.end(), session.last_logits().begin()));

  EXPECT_THROW(session.generate(5, {}), moe::Error);  // room for 3 more only
  EXPECT_EQ(session.tokens().size(), 16u);

  moe::Session empty = make_session();
  EXPECT_THROW(empty.generate(1, {}), moe::Error);
}

TEST_F(SessionTest, TokenNllMatchesReferenceLogSoftmax) {
  moe::Session session = make_session({.n_ctx = 64, .prefill_chunk = 5});
  const std::vector<float> nll = session.token_nll(kPrompt);
  ASSERT_EQ(nll.size(), kPrompt.size() - 1);
  EXPECT_EQ(session.tokens(), kPrompt);
  EXPECT_EQ(session.trace().n_tokens(), static_cast<int>(kPrompt.size()));

  const auto reference = moe::testing::reference_forward(model().file(), kPrompt);
  for (size_t i = 0; i + 1 < kPrompt.size(); ++i) {
    const std::vector<double>& row = reference.logits[i];
    double max_logit = row[0];
    for (double v : row) max_logit = std::max(max_logit, v);
    double sum = 0;
    for (double v : row) sum += std::exp(v - max_logit);
    const double expected = max_logit + std::log(sum) - row[static_cast<size_t>(kPrompt[i + 1])];
    EXPECT_NEAR(nll[i], expected, 1e-4 * std::max(1.0, expected)) << "position " << i;
  }
  // The session continues from there like any other.
  moe::Session fresh = make_session();
  fresh.set_tokens(kPrompt);
  expect_same_state(session, fresh);
}

TEST_F(SessionTest, CaptureOffRecordsNothing) {
  moe::Session session = make_session({.n_ctx = 64, .capture_routing = false});
  session.set_tokens(kPrompt);
  EXPECT_FALSE(session.capture_routing());
  EXPECT_FALSE(session.trace().has(0, 0));
  session.set_capture_routing(true);
  session.append(std::span(kPrompt).first(2));
  EXPECT_TRUE(session.trace().has(static_cast<int>(kPrompt.size()), 0));
  EXPECT_FALSE(session.trace().has(0, 0));
}

TEST_F(SessionTest, ClearForgetsEverything) {
  moe::Session session = make_session();
  session.set_tokens(kPrompt);
  session.clear();
  EXPECT_TRUE(session.tokens().empty());
  EXPECT_TRUE(session.last_logits().empty());
  EXPECT_EQ(session.trace().n_tokens(), 0);
  session.set_tokens(kPrompt);
  EXPECT_EQ(session.reused_tokens(), 0);
  moe::Session fresh = make_session();
  fresh.set_tokens(kPrompt);
  expect_same_state(session, fresh);
}

}  // namespace
