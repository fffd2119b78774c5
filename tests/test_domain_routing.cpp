// Prompt sets routed and pooled per domain (moe/domain_routing.hpp), as the CLI's `domains` and
// the app's Domains view compute them: the resumable DomainRouting gives route_pooled's traces,
// the BOS token is left out, and cut prompts are reported.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/domain_routing.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"
#include "moe/tokenizer.hpp"

namespace {

class DomainRoutingTest : public ::testing::Test {
protected:
  DomainRoutingTest()
      : file_(spec()),
        model_(file_.load()),
        tokenizer_(moe::Tokenizer::from_gguf(model_->file())) {}

  static moe::RandomModelSpec spec() {
    moe::RandomModelSpec spec;
    spec.n_layer = 2;
    spec.n_expert = 4;
    spec.n_expert_used = 2;
    return spec;
  }
  std::unique_ptr<moe::Session> session(int n_ctx = 0) const {
    moe::SessionOptions options;
    options.n_ctx = n_ctx;
    return std::make_unique<moe::Session>(model_, std::make_shared<moe::CpuBackend>(), options);
  }
  size_t n_tokens(const std::string& text) const { return tokenizer_.encode(text).size(); }

  moe::testing::TempModelFile file_;
  std::shared_ptr<const moe::Model> model_;
  moe::Tokenizer tokenizer_;
};

void expect_same_choices(const moe::RoutingTrace& a, const moe::RoutingTrace& b) {
  ASSERT_EQ(a.n_tokens(), b.n_tokens());
  for (int t = 0; t < a.n_tokens(); ++t)
    for (int layer : a.moe_layers()) EXPECT_EQ(a.at(t, layer).experts, b.at(t, layer).experts);
}

}  // namespace

TEST_F(DomainRoutingTest, PoolsEveryPromptWithoutItsBos) {
  const auto session_ptr = session();
  moe::Session& s = *session_ptr;
  const std::vector<std::string> prompts = {"Solve 15 x 8", "Roses are red"};
  const std::optional<int32_t> bos = tokenizer_.bos_id();
  ASSERT_TRUE(bos.has_value());
  bool cut = false;
  const moe::RoutingTrace pooled = moe::route_pooled(s, tokenizer_, prompts, bos, cut);
  EXPECT_FALSE(cut);
  EXPECT_EQ(pooled.n_tokens(), static_cast<int>(n_tokens(prompts[0]) + n_tokens(prompts[1])));
  // The second prompt's first token, run alone after BOS, routes as in the pooled trace.
  s.clear();
  std::vector<int32_t> ids = {*bos};
  for (int32_t id : tokenizer_.encode(prompts[1])) ids.push_back(id);
  s.set_tokens(ids);
  const int second = static_cast<int>(n_tokens(prompts[0]));
  for (int layer : pooled.moe_layers())
    EXPECT_EQ(pooled.at(second, layer).experts, s.trace().at(1, layer).experts);
  // Without BOS every token counts.
  const moe::RoutingTrace plain = moe::route_pooled(s, tokenizer_, prompts, std::nullopt, cut);
  EXPECT_EQ(plain.n_tokens(), pooled.n_tokens());
}

TEST_F(DomainRoutingTest, StepByStepGivesTheSameTracesAsAllAtOnce) {
  const std::vector<moe::PromptSet> sets = {
      {"maths", {"Solve 15 x 8", "2 + 2 = 4"}}, {"empty", {}}, {"poems", {"Roses are red"}}};
  const auto session_ptr = session();
  moe::Session& s = *session_ptr;
  moe::DomainRouting routing(sets, model_->config());
  EXPECT_EQ(routing.n_prompts(), 3u);
  ASSERT_EQ(routing.sets().size(), 2u);  // the set without prompts is left out
  EXPECT_THROW(routing.take_traces(), moe::Error);
  std::vector<std::string> order;
  while (!routing.done()) {
    order.push_back(routing.next_domain());
    EXPECT_FALSE(routing.route_next(s, tokenizer_, tokenizer_.bos_id()));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"maths", "maths", "poems"}));
  EXPECT_THROW(routing.route_next(s, tokenizer_, tokenizer_.bos_id()), moe::Error);
  const std::vector<moe::DomainTrace> traces = routing.take_traces();
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[0].domain, "maths");
  EXPECT_EQ(traces[1].domain, "poems");
  bool cut = false;
  expect_same_choices(traces[0].trace,
                      moe::route_pooled(s, tokenizer_, sets[0].prompts, tokenizer_.bos_id(), cut));
  expect_same_choices(traces[1].trace,
                      moe::route_pooled(s, tokenizer_, sets[2].prompts, tokenizer_.bos_id(), cut));
}

TEST_F(DomainRoutingTest, PromptsLongerThanTheContextAreCutAndReported) {
  const auto session_ptr = session(4);
  moe::Session& s = *session_ptr;
  const std::string long_prompt = "a prompt much longer than four tokens";
  ASSERT_GT(n_tokens(long_prompt), 4u);
  bool cut = false;
  const moe::RoutingTrace pooled =
      moe::route_pooled(s, tokenizer_, {long_prompt}, tokenizer_.bos_id(), cut);
  EXPECT_TRUE(cut);
  EXPECT_EQ(pooled.n_tokens(), 3);  // 4 positions, BOS left out
}
