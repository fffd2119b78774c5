// Pruning plans from a corpus profile (ranking by REAP, frequency or a seeded random choice, the
// plan file and its checks) and a profile seen as pooled routing statistics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "moe/error.hpp"
#include "moe/profile_stats.hpp"
#include "moe/prune_plan.hpp"

namespace {

// One MoE layer (model layer 1 of 2), E = 4: tokens per expert and REAP sums given directly.
moe::CorpusProfile hand_profile(int top_k, std::vector<int64_t> token_counts,
                                std::vector<double> reap_saliency) {
  moe::ProfileModel model;
  model.name = "hand";
  model.architecture = "qwen2moe";
  model.n_layer = 2;
  model.n_expert = 4;
  model.top_k = top_k;
  model.moe_layers = {1};
  moe::CorpusProfile profile = moe::make_corpus_profile(model);
  moe::ProfileLayer& layer = profile.layers[0];
  layer.token_counts = std::move(token_counts);
  for (size_t e = 0; e < 4; ++e) {  // saliency = sum / tokens with 2 tokens each
    layer.reap.tokens[e] = 2;
    layer.reap.weighted_norm_sum[e] = 2 * reap_saliency[e];
  }
  return profile;
}

std::string error_of(const nlohmann::json& json) {
  try {
    moe::prune_plan_from_json(json, "plan.json");
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST(PrunePlan, KeepsTheExpertsWithTheHighestScore) {
  const moe::CorpusProfile profile = hand_profile(1, {5, 1, 9, 3}, {0.2, 3.0, 1.0, 0.5});
  const moe::PrunePlan frequency = moe::make_prune_plan(profile, 0.5, moe::PruneCriterion::Frequency);
  ASSERT_EQ(frequency.layers.size(), 1u);
  EXPECT_EQ(frequency.layers[0].layer, 1);
  EXPECT_EQ(frequency.layers[0].kept, (std::vector<int>{0, 2}));
  EXPECT_EQ(frequency.layers[0].pruned, (std::vector<int>{1, 3}));
  EXPECT_EQ(frequency.layers[0].score, (std::vector<double>{5, 1, 9, 3}));
  const moe::PrunePlan reap = moe::make_prune_plan(profile, 0.5, moe::PruneCriterion::Reap);
  EXPECT_EQ(reap.layers[0].kept, (std::vector<int>{1, 2}));
  EXPECT_DOUBLE_EQ(reap.layers[0].score[1], 3.0);
  // round(0.75 * 4) = 3 kept.
  EXPECT_EQ(moe::make_prune_plan(profile, 0.75, moe::PruneCriterion::Reap).layers[0].pruned,
            (std::vector<int>{0}));
}

TEST(PrunePlan, TiesGoToTheLowerIdAndNeverFewerThanTopK) {
  const moe::CorpusProfile top1 = hand_profile(1, {4, 4, 1, 1}, {1, 1, 1, 1});
  EXPECT_EQ(moe::make_prune_plan(top1, 0.25, moe::PruneCriterion::Frequency).layers[0].kept,
            (std::vector<int>{0}));
  EXPECT_EQ(moe::make_prune_plan(top1, 0.25, moe::PruneCriterion::Reap).layers[0].kept,
            (std::vector<int>{0}));
  // Top-2: keeping 25% of 4 experts would leave 1, fewer than the 2 each token needs.
  const moe::CorpusProfile top2 = hand_profile(2, {4, 3, 2, 1}, {1, 2, 3, 4});
  EXPECT_EQ(moe::make_prune_plan(top2, 0.25, moe::PruneCriterion::Frequency).layers[0].kept,
            (std::vector<int>{0, 1}));
}

TEST(PrunePlan, RandomIsSeededAndKeepsTheShare) {
  const moe::CorpusProfile profile = hand_profile(1, {5, 1, 9, 3}, {0.2, 3.0, 1.0, 0.5});
  std::set<std::vector<int>> seen;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const moe::PrunePlan plan = moe::make_prune_plan(profile, 0.5, moe::PruneCriterion::Random, seed);
    EXPECT_EQ(plan, moe::make_prune_plan(profile, 0.5, moe::PruneCriterion::Random, seed));
    EXPECT_EQ(plan.layers[0].kept.size(), 2u);
    EXPECT_TRUE(plan.layers[0].score.empty());
    seen.insert(plan.layers[0].kept);
  }
  EXPECT_GT(seen.size(), 2u);  // seeds choose different experts
}

TEST(PrunePlan, BadRequestsGiveClearErrors) {
  moe::CorpusProfile profile = hand_profile(1, {5, 1, 9, 3}, {0.2, 3.0, 1.0, 0.5});
  EXPECT_THROW(moe::make_prune_plan(profile, 0.0, moe::PruneCriterion::Frequency), moe::Error);
  EXPECT_THROW(moe::make_prune_plan(profile, 1.5, moe::PruneCriterion::Frequency), moe::Error);
  EXPECT_THROW(moe::parse_prune_criterion("magnitude"), moe::Error);
  profile.layers[0].reap.tokens.assign(4, 0);  // a backend that recorded no expert norms
  try {
    moe::make_prune_plan(profile, 0.5, moe::PruneCriterion::Reap);
    FAIL() << "REAP without norms must not make a plan";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("frequency"), std::string::npos) << error.what();
  }
}

TEST(PrunePlan, BecomesDisabledExpertsOnAModelOfItsShape) {
  const moe::PrunePlan plan =
      moe::make_prune_plan(hand_profile(1, {5, 1, 9, 3}, {1, 1, 1, 1}), 0.5,
                          moe::PruneCriterion::Frequency);
  const moe::RoutingInterventions interventions = moe::prune_interventions(plan);
  EXPECT_EQ(interventions.disabled,
            (std::vector<moe::DisabledExpert>{{1, 1}, {1, 3}}));
  EXPECT_TRUE(interventions.is_disabled(1, 3));
  EXPECT_FALSE(interventions.is_disabled(1, 0));
  EXPECT_NO_THROW(moe::check_plan_fits(plan, 4, {1}));
  EXPECT_THROW(moe::check_plan_fits(plan, 8, {1}), moe::Error);
  EXPECT_THROW(moe::check_plan_fits(plan, 4, {0, 1}), moe::Error);
}

TEST(PrunePlanFile, RoundTripsAndRejectsBadPlans) {
  const moe::PrunePlan plan = moe::make_prune_plan(hand_profile(1, {5, 1, 9, 3}, {0.2, 3.0, 1.0, 0.5}),
                                                   0.5, moe::PruneCriterion::Reap);
  const auto path = std::filesystem::temp_directory_path() / "moescope_prune_plan_test.json";
  moe::write_prune_plan(path, plan);
  EXPECT_EQ(moe::read_prune_plan(path), plan);
  std::ofstream(path) << "{\"format\": \"moescope-prune-plan\", \"version\": 1";
  EXPECT_THROW(moe::read_prune_plan(path), moe::Error);
  std::filesystem::remove(path);

  const nlohmann::json good = moe::prune_plan_to_json(plan);
  EXPECT_EQ(error_of(good), "");
  nlohmann::json bad = good;
  bad["format"] = "moeprofile";
  EXPECT_NE(error_of(bad).find("not a prune plan"), std::string::npos);
  bad = good;
  bad["version"] = 2;
  EXPECT_NE(error_of(bad).find("version 2"), std::string::npos);
  bad = good;
  bad["layers"][0]["pruned"] = {1, 2};  // 2 is also kept
  EXPECT_NE(error_of(bad).find("listed twice"), std::string::npos);
  bad = good;
  bad["layers"][0]["pruned"] = {1, 7};
  EXPECT_NE(error_of(bad).find("out of range"), std::string::npos);
  bad = good;
  bad["layers"][0]["kept"] = nlohmann::json::array();
  bad["layers"][0]["pruned"] = {0, 1, 2, 3};
  EXPECT_NE(error_of(bad).find("keeps no expert"), std::string::npos);
  bad = good;
  bad["layers"][0].erase("score");
  EXPECT_NE(error_of(bad).find("missing \"score\""), std::string::npos);
  bad = good;
  bad["by"] = "size";
  EXPECT_NE(error_of(bad).find("size"), std::string::npos);
  bad = good;
  bad["seed"] = -1;
  EXPECT_NE(error_of(bad).find("seed"), std::string::npos);
}

// A profile's pooled statistics are those of the trace it was made from.
TEST(ProfileStats, PooledStatsEqualTheTracesStats) {
  moe::RoutingTrace trace(3, 3, 2, {0, 2});
  const std::vector<std::vector<int32_t>> sets = {{0, 1}, {0, 2}, {1, 2}, {2, 1}};
  const std::vector<std::vector<int32_t>> next = {{2, 0}, {2, 1}, {0, 1}, {1, 0}};
  for (size_t t = 0; t < sets.size(); ++t) {
    for (int layer : {0, 2}) {
      moe::RoutingRecord record;
      record.probs = {0.5f, 0.3f, 0.2f};
      record.experts = layer == 0 ? sets[t] : next[t];
      record.weights = {0.625f, 0.375f};
      trace.set(static_cast<int>(t), layer, record);
    }
  }
  moe::CorpusProfile profile = moe::make_corpus_profile(moe::profile_model_of(trace));
  moe::add_routing(profile, trace, std::vector<int32_t>{5, 6, 5, 6}, "code");
  const moe::RoutingStats expected = moe::compute_routing_stats(trace);
  const moe::RoutingStats pooled = moe::pooled_stats(profile);
  EXPECT_EQ(pooled.n_tokens, 4);
  EXPECT_FALSE(pooled.scores_known);  // a profile keeps no router scores
  EXPECT_TRUE(expected.scores_known);
  ASSERT_EQ(pooled.layers.size(), 2u);
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_EQ(pooled.layers[m].layer, expected.layers[m].layer);
    EXPECT_EQ(pooled.layers[m].token_counts, expected.layers[m].token_counts);
    EXPECT_EQ(pooled.layers[m].gate_mass, expected.layers[m].gate_mass);
    EXPECT_DOUBLE_EQ(pooled.layers[m].cv, expected.layers[m].cv);
    EXPECT_DOUBLE_EQ(pooled.layers[m].max_over_mean, expected.layers[m].max_over_mean);
  }
  EXPECT_EQ(pooled.coactivation, expected.coactivation);
  EXPECT_EQ(pooled.transitions, expected.transitions);

  const moe::ProfileDomains domains = moe::profile_domains(profile);
  ASSERT_EQ(domains.names, (std::vector<std::string>{"code"}));
  EXPECT_EQ(domains.stats[0].layers[1].token_counts, expected.layers[1].token_counts);
  ASSERT_EQ(domains.specialization.size(), 2u);
  EXPECT_DOUBLE_EQ(domains.specialization[0].mi_bits, 0.0);  // one domain says nothing
}
