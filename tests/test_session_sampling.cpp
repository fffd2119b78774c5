// Sampling: greedy, temperature, top-p; determinism per seed; argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "moe/error.hpp"
#include "moe/sampling.hpp"

namespace {

TEST(Sampling, ArgmaxTiesGoToTheLowestId) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(moe::argmax(logits), 1);
  EXPECT_THROW(moe::argmax(std::span<const float>()), moe::Error);
}

TEST(Sampling, ZeroTemperatureIsGreedy) {
  moe::Sampler sampler({.temperature = 0.0f, .top_p = 1.0f, .seed = 3});
  const std::vector<float> logits = {0.1f, 0.3f, 3.0f, 0.2f};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sampler.sample(logits), 2);
}

TEST(Sampling, SameSeedSameSequence) {
  const std::vector<float> logits = {0.0f, 0.5f, 1.0f, 0.2f, -0.3f};
  moe::Sampler a({.temperature = 1.0f, .top_p = 1.0f, .seed = 9});
  moe::Sampler b({.temperature = 1.0f, .top_p = 1.0f, .seed = 9});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(logits), b.sample(logits));
}

TEST(Sampling, FrequenciesFollowTheTemperedSoftmax) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  const float temperature = 2.0f;
  moe::Sampler sampler({.temperature = temperature, .top_p = 1.0f, .seed = 5});
  std::map<int32_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[sampler.sample(logits)];
  double z = 0;
  for (float l : logits) z += std::exp(l / temperature);
  for (int id = 0; id < 3; ++id) {
    const double expected = std::exp(logits[static_cast<size_t>(id)] / temperature) / z;
    EXPECT_NEAR(counts[id] / static_cast<double>(draws), expected, 0.015) << "token " << id;
  }
}

TEST(Sampling, TopPKeepsOnlyTheNucleus) {
  // Probabilities about 0.64, 0.24, 0.09, 0.03: top_p 0.8 keeps the first two.
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  moe::Sampler sampler({.temperature = 1.0f, .top_p = 0.8f, .seed = 1});
  std::map<int32_t, int> counts;
  for (int i = 0; i < 2000; ++i) ++counts[sampler.sample(logits)];
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
  EXPECT_EQ(counts[2] + counts[3], 0);

  moe::Sampler tiny({.temperature = 1.0f, .top_p = 1e-6f, .seed = 1});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(tiny.sample(logits), 0);
}

TEST(Sampling, RejectsBadOptions) {
  EXPECT_THROW(moe::Sampler({.temperature = 1.0f, .top_p = 0.0f, .seed = 0}), moe::Error);
  EXPECT_THROW(moe::Sampler({.temperature = 1.0f, .top_p = 1.5f, .seed = 0}), moe::Error);
  EXPECT_THROW(moe::Sampler({.temperature = INFINITY, .top_p = 1.0f, .seed = 0}), moe::Error);
}

}  // namespace
