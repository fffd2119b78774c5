// Expert vocabulary, the load difference of two prompts (and its diverging heatmap) and the
// compute counter, on hand-made traces whose answers are known.
#include <gtest/gtest.h>

#include "model_fixtures.hpp"
#include "moe/compute_estimate.hpp"
#include "moe/error.hpp"
#include "moe/expert_insights.hpp"
#include "moe/plot/comparison_figures.hpp"

namespace {

// A trace of 2 MoE layers (0 and 2 of 3), 4 experts, where token t chose `experts[t]` at both.
moe::RoutingTrace trace_of(const std::vector<std::vector<int32_t>>& experts) {
  moe::RoutingTrace trace(3, 4, 2, {0, 2});
  for (size_t t = 0; t < experts.size(); ++t) {
    for (int layer : {0, 2}) {
      moe::RoutingRecord record;
      record.logits.assign(4, 0.0f);
      record.probs.assign(4, 0.25f);
      record.experts = experts[t];
      record.weights.assign(experts[t].size(), 1.0f / static_cast<float>(experts[t].size()));
      trace.set(static_cast<int>(t), layer, record);
    }
  }
  return trace;
}

}  // namespace

TEST(ExpertVocabulary, CountsTokensDomainsAndExamples) {
  std::vector<moe::RoutedText> texts;
  // Domain "a": tokens 7 7 9 (positions 1..3; position 0 is BOS, left out).
  texts.push_back({"a", {1, 7, 7, 9}, trace_of({{1, 2}, {1, 2}, {1, 3}, {3, 0}}), 1});
  // Domain "b": tokens 7 5, expert 1 only for 5.
  texts.push_back({"b", {1, 7, 5}, trace_of({{1, 2}, {0, 2}, {2, 1}}), 1});
  const moe::ExpertVocabulary vocabulary = moe::expert_vocabulary(texts, 2, 1, 10, 5);
  EXPECT_EQ(vocabulary.tokens, 5);  // BOS left out of both texts
  EXPECT_EQ(vocabulary.routed, 3);  // "7" twice in a, "5" in b
  ASSERT_EQ(vocabulary.top_tokens.size(), 2u);
  EXPECT_EQ(vocabulary.top_tokens[0].id, 7);
  EXPECT_EQ(vocabulary.top_tokens[0].routed, 2);
  EXPECT_EQ(vocabulary.top_tokens[0].occurrences, 3);  // routed 2 of its 3 occurrences
  EXPECT_EQ(vocabulary.top_tokens[0].examples.size(), 2u);
  EXPECT_EQ(vocabulary.top_tokens[0].examples[0].rank, 0);
  EXPECT_EQ(vocabulary.top_tokens[1].id, 5);
  EXPECT_EQ(vocabulary.top_tokens[1].examples[0].rank, 1);
  ASSERT_EQ(vocabulary.domains.size(), 2u);
  EXPECT_EQ(vocabulary.domains[0].domain, "a");
  EXPECT_EQ(vocabulary.domains[0].tokens, 3);
  EXPECT_EQ(vocabulary.domains[0].routed, 2);
  EXPECT_EQ(vocabulary.domains[0].top1, 2);
  EXPECT_EQ(vocabulary.domains[1].routed, 1);
  EXPECT_EQ(vocabulary.domains[1].top1, 0);

  EXPECT_THROW(moe::expert_vocabulary(texts, 1, 0), moe::Error);  // dense layer
  EXPECT_THROW(moe::expert_vocabulary(texts, 0, 4), moe::Error);  // no expert 4
}

TEST(LoadComparison, DifferenceOfSlotShares) {
  // A: every token uses experts 0 and 1; B: experts 2 and 3 (BOS at 0 left out of B).
  const moe::RoutingTrace a = trace_of({{0, 1}, {0, 1}});
  const moe::RoutingTrace b = trace_of({{0, 1}, {2, 3}, {3, 2}});
  const moe::LoadComparison comparison = moe::compare_load(a, b, 0, 1);
  EXPECT_EQ(comparison.tokens_a, 2);
  EXPECT_EQ(comparison.tokens_b, 2);
  ASSERT_EQ(comparison.difference.size(), 2u);
  EXPECT_DOUBLE_EQ(comparison.share_a[0][0], 0.5);
  EXPECT_DOUBLE_EQ(comparison.difference[0][0], -0.5);
  EXPECT_DOUBLE_EQ(comparison.difference[1][3], 0.5);
  EXPECT_DOUBLE_EQ(comparison.max_abs_difference, 0.5);

  const moe::plot::Figure figure = moe::plot::load_difference_figure(comparison, "maths", "poem");
  ASSERT_EQ(figure.cells.size(), 8u);
  ASSERT_TRUE(figure.color_scale.has_value());
  EXPECT_DOUBLE_EQ(figure.color_scale->min, -50);
  EXPECT_DOUBLE_EQ(figure.color_scale->max, 50);
  // Diverging: B's extra use is red, A's blue, no difference white.
  const moe::plot::Color more_in_b = figure.cells[3].fill, more_in_a = figure.cells[0].fill;
  EXPECT_GT(more_in_b.r, more_in_b.b);
  EXPECT_GT(more_in_a.b, more_in_a.r);
  const moe::plot::Color zero = figure.color_scale->at(0);
  EXPECT_GT(zero.r, 0.9f);
  EXPECT_GT(zero.b, 0.9f);
  EXPECT_EQ(figure.cells[3].value, 50);
  EXPECT_NE(figure.title.find("poem"), std::string::npos);

  moe::RoutingTrace other(3, 8, 2, {0, 2});
  EXPECT_THROW(moe::compare_load(a, other), moe::Error);
}

TEST(ComputeCounter, CountsWhatTheRouterChose) {
  moe::RandomModelSpec spec;
  spec.n_layer = 2;
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  const moe::ParameterCounts counts = model->parameter_counts();
  // Top-2 everywhere: the model card's active parameters exactly.
  moe::RoutingTrace two(2, 4, 2, {0, 1});
  moe::RoutingTrace one(2, 4, 2, {0, 1});
  for (int t = 0; t < 5; ++t) {
    for (int layer : {0, 1}) {
      moe::RoutingRecord record;
      record.logits = {0, 0, 0, 0};
      record.probs = {0.25f, 0.25f, 0.25f, 0.25f};
      record.experts = {0, 1};
      record.weights = {0.5f, 0.5f};
      two.set(t, layer, record);
      record.experts = {0};
      record.weights = {1.0f};
      one.set(t, layer, record);
    }
  }
  const moe::ComputeCount full = moe::count_compute(*model, two);
  EXPECT_EQ(full.tokens, 5);
  EXPECT_DOUBLE_EQ(full.mean_active_experts, 2.0);
  EXPECT_DOUBLE_EQ(full.active_parameters_per_token, static_cast<double>(counts.active_per_token));
  EXPECT_EQ(full.total_parameters, counts.total);
  // Per token, the same FLOPs as the model card's estimate (attention over growing contexts).
  const moe::ComputeEstimate estimate = moe::estimate_compute(model->config(), counts, 1);
  const double matmul = 2.0 * static_cast<double>(estimate.moe_matmul_params) * 5;
  EXPECT_NEAR(full.moe_flops, matmul + estimate.attention_flops * (1 + 2 + 3 + 4 + 5), 1);
  EXPECT_LT(full.moe_flops, full.dense_flops);
  // Top-1: one expert fewer per layer and token.
  const moe::ComputeCount half = moe::count_compute(*model, one);
  EXPECT_DOUBLE_EQ(
      half.active_parameters_per_token,
      full.active_parameters_per_token - 2.0 * static_cast<double>(full.parameters_per_expert));
  EXPECT_NEAR(full.moe_flops - half.moe_flops,
              2.0 * 2 * 5 * static_cast<double>(full.parameters_per_expert), 1);
  EXPECT_DOUBLE_EQ(half.dense_flops, full.dense_flops);
}
