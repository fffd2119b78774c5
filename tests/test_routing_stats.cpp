// Routing trace storage and the statistics derived from it, on hand-built traces whose
// figures can be worked out on paper.
#include <gtest/gtest.h>

#include <cmath>

#include "moe/routing.hpp"
#include "moe/routing_stats.hpp"

namespace {

moe::RoutingRecord record(std::vector<float> probs, std::vector<int32_t> experts,
                          std::vector<float> weights) {
  moe::RoutingRecord result;
  result.logits = probs;
  result.probs = std::move(probs);
  result.experts = std::move(experts);
  result.weights = std::move(weights);
  return result;
}

}  // namespace

TEST(RoutingTrace, IndexesOnlyMoeLayers) {
  moe::RoutingTrace trace(4, 3, 1, {1, 3});
  EXPECT_EQ(trace.moe_index(0), -1);
  EXPECT_EQ(trace.moe_index(1), 0);
  EXPECT_EQ(trace.moe_index(3), 1);
  EXPECT_EQ(trace.moe_index(7), -1);
  EXPECT_THROW(trace.set(0, 0, {}), std::out_of_range);

  trace.set(2, 3, record({0.2f, 0.5f, 0.3f}, {1}, {1.0f}));
  EXPECT_EQ(trace.n_tokens(), 3);
  EXPECT_TRUE(trace.has(2, 3));
  EXPECT_FALSE(trace.has(2, 1));
  EXPECT_FALSE(trace.has(0, 3));
  EXPECT_EQ(trace.at(2, 3).experts.at(0), 1);
  EXPECT_THROW(trace.at(5, 3), std::out_of_range);

  trace.resize(2);  // an edited prompt drops the records past the edit
  EXPECT_EQ(trace.n_tokens(), 2);
  EXPECT_FALSE(trace.has(2, 3));
}

TEST(RoutingStats, LoadBalanceAndEntropy) {
  // 4 experts, top-2, one MoE layer, 2 tokens.
  moe::RoutingTrace trace(1, 4, 2, {0});
  trace.set(0, 0, record({0.4f, 0.4f, 0.1f, 0.1f}, {0, 1}, {0.5f, 0.5f}));
  trace.set(1, 0, record({0.6f, 0.1f, 0.2f, 0.1f}, {0, 2}, {0.75f, 0.25f}));
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  ASSERT_EQ(stats.layers.size(), 1u);
  const moe::LayerLoad& load = stats.layers[0];
  EXPECT_EQ(load.token_counts, (std::vector<int64_t>{2, 1, 1, 0}));
  EXPECT_NEAR(load.gate_mass[0], 1.25, 1e-6);
  EXPECT_NEAR(load.gate_mass[2], 0.25, 1e-6);
  EXPECT_NEAR(load.mean_prob[0], 0.5, 1e-6);
  // counts 2,1,1,0: mean 1, std sqrt(0.5)
  EXPECT_NEAR(load.cv, std::sqrt(0.5), 1e-9);
  EXPECT_NEAR(load.max_over_mean, 2.0, 1e-9);
  EXPECT_NEAR(load.unused_share, 0.25, 1e-9);
  // f = (0.5, 0.25, 0.25, 0), P = (0.5, 0.25, 0.15, 0.1): 4 * (0.25 + 0.0625 + 0.0375) = 1.4
  EXPECT_NEAR(load.switch_aux_loss, 1.4, 1e-6);
  const double h0 = -2 * 0.4 * std::log(0.4) - 2 * 0.1 * std::log(0.1);
  EXPECT_NEAR(stats.token_entropy[0][0], h0, 1e-6);
  EXPECT_GT(load.mean_entropy, 0.0);
}

// The loss term by term, as the Expert load view shows it: the same numbers as above.
TEST(RoutingStats, SwitchLossTermByTerm) {
  moe::RoutingTrace trace(1, 4, 2, {0});
  trace.set(0, 0, record({0.4f, 0.4f, 0.1f, 0.1f}, {0, 1}, {0.5f, 0.5f}));
  trace.set(1, 0, record({0.6f, 0.1f, 0.2f, 0.1f}, {0, 2}, {0.75f, 0.25f}));
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  const moe::LayerLoad& load = stats.layers.at(0);
  const moe::SwitchLoss loss = moe::switch_loss(load);
  ASSERT_EQ(loss.terms.size(), 4u);
  const double f[] = {0.5, 0.25, 0.25, 0}, p[] = {0.5, 0.25, 0.15, 0.1};
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_NEAR(loss.terms[e].f, f[e], 1e-9) << e;
    EXPECT_NEAR(loss.terms[e].p, p[e], 1e-6) << e;
  }
  EXPECT_NEAR(loss.sum_fp, 0.35, 1e-6);
  EXPECT_NEAR(loss.loss, 1.4, 1e-6);
  EXPECT_DOUBLE_EQ(loss.loss, load.switch_aux_loss);
}

TEST(RoutingStats, UniformRoutingHasAuxLossOne) {
  moe::RoutingTrace trace(1, 2, 1, {0});
  trace.set(0, 0, record({0.5f, 0.5f}, {0}, {1.0f}));
  trace.set(1, 0, record({0.5f, 0.5f}, {1}, {1.0f}));
  const auto stats = moe::compute_routing_stats(trace);
  EXPECT_NEAR(stats.layers[0].switch_aux_loss, 1.0, 1e-9);
  EXPECT_NEAR(stats.layers[0].cv, 0.0, 1e-12);
}

TEST(RoutingStats, CoactivationAndTransitions) {
  moe::RoutingTrace trace(3, 3, 2, {0, 2});
  trace.set(0, 0, record({0.5f, 0.3f, 0.2f}, {0, 1}, {0.6f, 0.4f}));
  trace.set(0, 2, record({0.1f, 0.3f, 0.6f}, {2, 1}, {0.7f, 0.3f}));
  trace.set(1, 0, record({0.2f, 0.3f, 0.5f}, {2, 1}, {0.6f, 0.4f}));
  trace.set(1, 2, record({0.5f, 0.3f, 0.2f}, {0, 1}, {0.6f, 0.4f}));
  const auto stats = moe::compute_routing_stats(trace);
  ASSERT_EQ(stats.coactivation.size(), 2u);
  const auto& co = stats.coactivation[0];
  EXPECT_EQ(co[0 * 3 + 1], 1);  // token 0 chose 0 and 1 together
  EXPECT_EQ(co[1 * 3 + 0], 1);
  EXPECT_EQ(co[1 * 3 + 2], 1);  // token 1 chose 2 and 1
  EXPECT_EQ(co[0 * 3 + 2], 0);
  EXPECT_EQ(co[1 * 3 + 1], 2);  // diagonal: times expert 1 was chosen
  ASSERT_EQ(stats.transitions.size(), 1u);
  const auto& tr = stats.transitions[0];
  EXPECT_EQ(tr[0 * 3 + 2], 1);  // token 0: 0 -> 2
  EXPECT_EQ(tr[1 * 3 + 1], 2);  // token 0: 1 -> 1 and token 1: 1 -> 1
  EXPECT_EQ(tr[2 * 3 + 0], 1);  // token 1: 2 -> 0
  int64_t total = 0;
  for (int64_t v : tr) total += v;
  EXPECT_EQ(total, 8);  // 2 tokens x (2 x 2) pairs
}

TEST(RoutingStats, TokenRange) {
  moe::RoutingTrace trace(1, 2, 1, {0});
  trace.set(0, 0, record({0.9f, 0.1f}, {0}, {1.0f}));
  trace.set(1, 0, record({0.2f, 0.8f}, {1}, {1.0f}));
  trace.set(2, 0, record({0.3f, 0.7f}, {1}, {1.0f}));
  const auto tail = moe::compute_routing_stats(trace, 1);
  EXPECT_EQ(tail.n_tokens, 2);
  EXPECT_EQ(tail.layers[0].token_counts, (std::vector<int64_t>{0, 2}));
  const auto empty = moe::compute_routing_stats(trace, 5);
  EXPECT_EQ(empty.n_tokens, 0);
  EXPECT_EQ(empty.layers[0].cv, 0.0);
}
