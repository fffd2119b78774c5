// The router knobs of moe/interventions.hpp (temperature, noisy top-k, softmax/sigmoid scoring,
// a per-expert selection bias) in route_layer: against the double-precision reference routing
// (tests/support/reference_routing.cpp), their defaults are the identity, and the property each
// knob is there to show (temperature -> 0 gives the top expert all the weight; sigmoid changes
// the weights, not the choice; the bias changes the choice, not the weights; the noise is
// reproducible per seed). Also their text forms, validation and JSON round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model_fixtures.hpp"
#include "moe/error.hpp"
#include "moe/interventions.hpp"
#include "moe/router.hpp"
#include "moe/routing_data.hpp"
#include "reference_routing.hpp"

namespace {

using moe::RouteDecision;
using moe::RoutingInterventions;
using moe::Scoring;

constexpr int kTokens = 64;
constexpr double kScoreTolerance = 1e-5;

// One llama-style model (softmax scores, weights renormalized over the top-2 of 8 experts).
class RouterKnobsTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    moe::RandomModelSpec spec;
    spec.n_embd = 32, spec.n_layer = 2, spec.n_head = 4, spec.n_head_kv = 2;
    spec.n_expert = 8, spec.n_expert_used = 2, spec.n_ff_exp = 16, spec.seed = 61;
    file_ = new moe::testing::TempModelFile(spec);
    model_ = file_->load();
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0, 1.5f);
    logits_.resize(static_cast<size_t>(kTokens * model_->config().n_expert));
    for (float& value : logits_) value = normal(rng);
  }
  static void TearDownTestSuite() {
    model_.reset();
    delete file_;
  }
  static std::vector<RouteDecision> route(const RoutingInterventions& interventions,
                                          int layer = 0) {
    std::vector<RouteDecision> decisions;
    moe::route_layer(*model_, layer, logits_.data(), kTokens, 0, interventions, decisions);
    return decisions;
  }
  static std::vector<std::vector<double>> logit_rows() {
    const auto n_expert = static_cast<size_t>(model_->config().n_expert);
    std::vector<std::vector<double>> rows(kTokens);
    for (size_t t = 0; t < rows.size(); ++t)
      rows[t].assign(logits_.begin() + static_cast<ptrdiff_t>(t * n_expert),
                     logits_.begin() + static_cast<ptrdiff_t>((t + 1) * n_expert));
    return rows;
  }
  static inline moe::testing::TempModelFile* file_ = nullptr;
  static inline std::shared_ptr<const moe::Model> model_;
  static inline std::vector<float> logits_;
};

RoutingInterventions knobs(double temperature, double noise, uint64_t seed, Scoring scoring,
                           std::map<int, double> bias) {
  RoutingInterventions interventions;
  interventions.temperature = temperature;
  interventions.noise_scale = noise;
  interventions.noise_seed = seed;
  interventions.scoring = scoring;
  interventions.expert_bias = std::move(bias);
  return interventions;
}

bool same_decisions(const std::vector<RouteDecision>& a, const std::vector<RouteDecision>& b) {
  if (a.size() != b.size()) return false;
  for (size_t t = 0; t < a.size(); ++t) {
    if (a[t].experts != b[t].experts || a[t].weights != b[t].weights || a[t].probs != b[t].probs)
      return false;
  }
  return true;
}

TEST_F(RouterKnobsTest, EachKnobMatchesTheDoublePrecisionReference) {
  const std::vector<std::pair<std::string, RoutingInterventions>> cases = {
      {"cold", knobs(0.3, 0, 0, Scoring::Model, {})},
      {"hot", knobs(3.0, 0, 0, Scoring::Model, {})},
      {"noise", knobs(1, 0.8, 3, Scoring::Model, {})},
      {"sigmoid", knobs(1, 0, 0, Scoring::Sigmoid, {})},
      {"softmax", knobs(1, 0, 0, Scoring::Softmax, {})},
      {"bias", knobs(1, 0, 0, Scoring::Model, {{1, 0.2}, {6, -0.15}})},
      {"all", knobs(0.7, 0.5, 9, Scoring::Sigmoid, {{0, 0.1}, {4, 0.05}})},
  };
  const moe::testing::ReferenceGate gate;  // llama's: softmax, renormalized
  for (const auto& [label, interventions] : cases) {
    SCOPED_TRACE(label);
    for (int layer = 0; layer < 2; ++layer) {
      const std::vector<RouteDecision> got = route(interventions, layer);
      const std::vector<moe::testing::ReferenceRouting> want = moe::testing::reference_route_layer(
          logit_rows(), layer, model_->config().n_expert_used, gate, interventions);
      int compared = 0;
      for (size_t t = 0; t < got.size(); ++t) {
        for (size_t e = 0; e < want[t].probs.size(); ++e)
          EXPECT_NEAR(got[t].probs[e], want[t].probs[e], kScoreTolerance) << "token " << t;
        if (moe::testing::near_tie(want[t], model_->config().n_expert_used, 1e-5)) continue;
        ++compared;
        EXPECT_EQ(got[t].experts, want[t].experts) << "token " << t;
        ASSERT_EQ(got[t].weights.size(), want[t].weights.size());
        for (size_t j = 0; j < want[t].weights.size(); ++j)
          EXPECT_NEAR(got[t].weights[j], want[t].weights[j], kScoreTolerance) << "token " << t;
      }
      EXPECT_GT(compared, kTokens / 2);
    }
  }
}

TEST_F(RouterKnobsTest, DefaultValuesAreTheIdentity) {
  const RoutingInterventions neutral = knobs(1.0, 0.0, 1234, Scoring::Model, {});
  EXPECT_TRUE(neutral.empty());
  EXPECT_TRUE(same_decisions(route(neutral), route({})));
  RoutingInterventions parsed;
  ASSERT_TRUE(moe::parse_router_knob("bias:3:0.2", parsed));
  ASSERT_TRUE(moe::parse_router_knob("bias:3:0", parsed));  // 0 removes the bias
  ASSERT_TRUE(moe::parse_router_knob("temperature:1", parsed));
  ASSERT_TRUE(moe::parse_router_knob("noise:0:17", parsed));
  EXPECT_TRUE(parsed.expert_bias.empty());
  EXPECT_TRUE(same_decisions(route(parsed), route({})));
  // Each knob away from its default does change the routing.
  EXPECT_FALSE(same_decisions(route(knobs(0.9, 0, 0, Scoring::Model, {})), route({})));
  EXPECT_FALSE(same_decisions(route(knobs(1, 0.1, 0, Scoring::Model, {})), route({})));
  EXPECT_FALSE(same_decisions(route(knobs(1, 0, 0, Scoring::Model, {{2, 0.3}})), route({})));
}

TEST_F(RouterKnobsTest, TemperatureTowardsZeroGivesTheTopExpertAllTheWeight) {
  const auto mean_top_weight = [&](double temperature) {
    double sum = 0;
    for (const RouteDecision& d : route(knobs(temperature, 0, 0, Scoring::Model, {})))
      sum += d.weights.front();
    return sum / kTokens;
  };
  const double at_1 = mean_top_weight(1.0), at_01 = mean_top_weight(0.1);
  const double at_0001 = mean_top_weight(1e-3);
  EXPECT_LT(at_1, 0.9);
  EXPECT_GT(at_01, at_1);
  EXPECT_GT(at_0001, 0.99);
  for (const RouteDecision& d : route(knobs(1e-3, 0, 0, Scoring::Model, {}))) {
    const float top_prob = *std::max_element(d.probs.begin(), d.probs.end());
    EXPECT_FLOAT_EQ(top_prob, d.probs[static_cast<size_t>(d.experts.front())]);
  }
  // The top choice does not depend on the temperature (it only rescales the logits; the
  // others' scores may underflow to 0 and tie).
  const std::vector<RouteDecision> plain = route({});
  const std::vector<RouteDecision> cold = route(knobs(1e-3, 0, 0, Scoring::Model, {}));
  for (size_t t = 0; t < plain.size(); ++t)
    EXPECT_EQ(cold[t].experts.front(), plain[t].experts.front());
}

TEST_F(RouterKnobsTest, SigmoidScoringChangesTheWeightsNotTheChoice) {
  const std::vector<RouteDecision> softmax = route({});
  const std::vector<RouteDecision> sigmoid = route(knobs(1, 0, 0, Scoring::Sigmoid, {}));
  double largest_change = 0;
  for (size_t t = 0; t < softmax.size(); ++t) {
    EXPECT_EQ(sigmoid[t].experts, softmax[t].experts) << "token " << t;
    for (size_t j = 0; j < softmax[t].weights.size(); ++j)
      largest_change = std::max(
          largest_change, std::abs(double(sigmoid[t].weights[j]) - softmax[t].weights[j]));
    // Sigmoid scores each expert on its own: they need not sum to 1.
    EXPECT_FLOAT_EQ(sigmoid[t].probs[0], 1.0f / (1.0f + std::exp(-logits_[t * 8])));
  }
  EXPECT_GT(largest_change, 0.01);
}

TEST_F(RouterKnobsTest, BiasChangesTheChoiceNotTheWeightsOfTheChosen) {
  const std::vector<RouteDecision> plain = route({});
  const std::vector<RouteDecision> biased = route(knobs(1, 0, 0, Scoring::Model, {{5, 0.15}}));
  int changed = 0;
  for (size_t t = 0; t < plain.size(); ++t) {
    // The scores are the unbiased ones ...
    EXPECT_EQ(biased[t].probs, plain[t].probs) << "token " << t;
    // ... and the weights are those scores renormalized over the chosen set.
    double sum = 0;
    for (int32_t e : biased[t].experts) sum += biased[t].probs[static_cast<size_t>(e)];
    for (size_t j = 0; j < biased[t].experts.size(); ++j) {
      EXPECT_NEAR(biased[t].weights[j],
                  biased[t].probs[static_cast<size_t>(biased[t].experts[j])] / sum, 1e-6);
    }
    auto sorted_biased = biased[t].experts, sorted_plain = plain[t].experts;
    std::sort(sorted_biased.begin(), sorted_biased.end());
    std::sort(sorted_plain.begin(), sorted_plain.end());
    if (sorted_biased != sorted_plain) ++changed;
    else {
      // The same set: the same weight for each expert.
      for (size_t j = 0; j < plain[t].experts.size(); ++j) {
        const auto at = std::find(biased[t].experts.begin(), biased[t].experts.end(),
                                  plain[t].experts[j]) - biased[t].experts.begin();
        EXPECT_FLOAT_EQ(biased[t].weights[static_cast<size_t>(at)], plain[t].weights[j]);
      }
    }
  }
  EXPECT_GT(changed, 0) << "a bias of +0.15 on expert 5 changed no choice";
  EXPECT_LT(changed, kTokens) << "a small bias should not change every choice";
  // A large bias makes the expert everyone's choice.
  for (const RouteDecision& d : route(knobs(1, 0, 0, Scoring::Model, {{5, 2.0}})))
    EXPECT_NE(std::find(d.experts.begin(), d.experts.end(), 5), d.experts.end());
}

TEST_F(RouterKnobsTest, NoiseIsReproduciblePerSeedAndDiffersAcrossSeeds) {
  const std::vector<RouteDecision> a = route(knobs(1, 1.0, 1, Scoring::Model, {}));
  EXPECT_TRUE(same_decisions(a, route(knobs(1, 1.0, 1, Scoring::Model, {}))));
  const std::vector<RouteDecision> b = route(knobs(1, 1.0, 2, Scoring::Model, {}));
  int differ = 0;
  for (size_t t = 0; t < a.size(); ++t) differ += a[t].experts != b[t].experts;
  EXPECT_GT(differ, 0);
  // The noise is standard normal and a function of (seed, position, layer, expert) alone.
  double sum = 0, squares = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const double z = moe::router_noise(7, i / 64, 3, i % 64);
    sum += z, squares += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(squares / n, 1.0, 0.05);
  EXPECT_EQ(moe::router_noise(7, 4, 1, 2), moe::router_noise(7, 4, 1, 2));
  EXPECT_NE(moe::router_noise(7, 4, 1, 2), moe::router_noise(7, 4, 1, 3));
  EXPECT_NE(moe::router_noise(7, 4, 1, 2), moe::router_noise(7, 4, 0, 2));
  EXPECT_NE(moe::router_noise(7, 4, 1, 2), moe::router_noise(7, 5, 1, 2));
  EXPECT_NE(moe::router_noise(7, 4, 1, 2), moe::router_noise(8, 4, 1, 2));
}

TEST_F(RouterKnobsTest, TextFormsValidationAndJson) {
  RoutingInterventions interventions;
  EXPECT_FALSE(moe::parse_router_knob("capacity:1.5", interventions));
  EXPECT_TRUE(interventions.empty());
  ASSERT_TRUE(moe::parse_router_knob("temperature:0.5", interventions));
  ASSERT_TRUE(moe::parse_router_knob("noise:0.3:42", interventions));
  ASSERT_TRUE(moe::parse_router_knob("scoring:sigmoid", interventions));
  ASSERT_TRUE(moe::parse_router_knob("bias:3:-0.1", interventions));
  EXPECT_EQ(interventions.describe(),
            "router temperature 0.5; noisy top-k, noise 0.3 (seed 42); sigmoid scoring; "
            "expert 3 selection bias -0.1");
  EXPECT_NO_THROW(interventions.validate(model_->config()));
  const RoutingInterventions back =
      moe::interventions_from_json(moe::interventions_to_json(interventions));
  EXPECT_EQ(back, interventions);
  // Files written before the knobs read as the defaults.
  nlohmann::json old = moe::interventions_to_json({});
  for (const char* key : {"temperature", "noise", "scoring", "expert_bias"}) old.erase(key);
  EXPECT_EQ(moe::interventions_from_json(old), RoutingInterventions{});

  const auto error_of = [&](RoutingInterventions v) -> std::string {
    try {
      v.validate(model_->config());
    } catch (const moe::Error& error) {
      return error.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error_of(knobs(0, 0, 0, Scoring::Model, {})).find("temperature"), std::string::npos);
  EXPECT_NE(error_of(knobs(1, -1, 0, Scoring::Model, {})).find("noise"), std::string::npos);
  EXPECT_NE(error_of(knobs(1, 0, 0, Scoring::Model, {{8, 0.1}})).find("expert 8 is out of range"),
            std::string::npos);
  EXPECT_THROW(moe::parse_router_knob("scoring:cosine", interventions), moe::Error);
  EXPECT_THROW(moe::parse_router_knob("temperature:warm", interventions), moe::Error);
  EXPECT_THROW(moe::parse_router_knob("bias:x:1", interventions), moe::Error);
}

}  // namespace
