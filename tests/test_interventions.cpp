// Routing interventions (moe/interventions.hpp): parsing and validation, the invariants of each
// rule in route_layer, the CPU backend with interventions against the slow reference forward
// (tests/support/reference_routing.cpp, plain loops), the Session's recomputation, the measured
// effect (KL 0 without interventions, > 0 with a knock-out) and the data files.
//
// Tolerances as in test_cpu_backend: logits within 1e-4 relative; chosen experts identical
// (the generated fixtures have no near-ties, so none are exempted).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/intervention_effects.hpp"
#include "moe/interventions.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/router.hpp"
#include "moe/routing_data.hpp"
#include "moe/session.hpp"
#include "reference_architectures.hpp"

namespace {

using moe::DisabledExpert;
using moe::ExpertPin;
using moe::RoutingInterventions;
using moe::RoutingRule;
using moe::testing::TempModelFile;

constexpr double kLogitTolerance = 1e-4;

moe::RandomModelSpec small_spec() {
  moe::RandomModelSpec spec;
  spec.n_embd = 64;
  spec.n_layer = 3;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_expert = 8;
  spec.n_expert_used = 2;
  spec.n_ff_exp = 32;
  spec.dense_layers = {1};
  spec.seed = 21;
  return spec;
}

// One model file for the whole suite.
class InterventionsTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    file_ = new TempModelFile(small_spec());
    model_ = file_->load();
  }
  static void TearDownTestSuite() {
    model_.reset();
    delete file_;
  }
  static std::vector<int32_t> tokens(int n, uint32_t seed = 5) {
    std::mt19937 rng(seed);
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (int32_t& id : ids) id = static_cast<int32_t>(rng() % 256);
    return ids;
  }
  // Random router logits, n x n_expert.
  static std::vector<float> random_logits(int n, uint32_t seed = 3) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0, 1.5f);
    std::vector<float> logits(static_cast<size_t>(n * model_->config().n_expert));
    for (float& value : logits) value = normal(rng);
    return logits;
  }
  static inline TempModelFile* file_ = nullptr;
  static inline std::shared_ptr<const moe::Model> model_;
};

// Interventions built field by field (designated initializers would warn about the others).
RoutingInterventions with_top_k(int k, std::map<int, int> by_layer = {}) {
  RoutingInterventions interventions;
  interventions.top_k = k;
  interventions.top_k_by_layer = std::move(by_layer);
  return interventions;
}
RoutingInterventions disabling(std::vector<DisabledExpert> disabled,
                               RoutingRule rule = RoutingRule::TokenChoice) {
  RoutingInterventions interventions;
  interventions.disabled = std::move(disabled);
  interventions.rule = rule;
  return interventions;
}
RoutingInterventions pinning(std::vector<ExpertPin> pins) {
  RoutingInterventions interventions;
  interventions.pins = std::move(pins);
  return interventions;
}
RoutingInterventions capacity_rule(double factor) {
  RoutingInterventions interventions;
  interventions.rule = RoutingRule::Capacity;
  interventions.capacity_factor = factor;
  return interventions;
}

template <typename F>
std::string error_of(F&& action) {
  try {
    action();
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST(InterventionParsing, ParsesTheCommandLineForms) {
  EXPECT_EQ(moe::parse_disabled_expert("2:5"), (DisabledExpert{2, 5}));
  EXPECT_EQ(moe::parse_disabled_expert("all:3"), (DisabledExpert{moe::kAllLayers, 3}));
  EXPECT_EQ(moe::parse_expert_pin("4:0:7"), (ExpertPin{4, 0, 7}));
  RoutingInterventions rule;
  moe::parse_routing_rule("capacity:1.25", rule);
  EXPECT_EQ(rule.rule, RoutingRule::Capacity);
  EXPECT_DOUBLE_EQ(rule.capacity_factor, 1.25);
  EXPECT_EQ(moe::routing_rule_name(rule), "capacity:1.25");
  moe::parse_routing_rule("expert-choice", rule);
  EXPECT_EQ(rule.rule, RoutingRule::ExpertChoice);
  moe::parse_routing_rule("topk", rule);
  EXPECT_TRUE(rule.empty());

  EXPECT_NE(error_of([] { moe::parse_disabled_expert("2"); }).find("LAYER:EXPERT"),
            std::string::npos);
  EXPECT_NE(error_of([] { moe::parse_disabled_expert("x:1"); }).find("not a whole number"),
            std::string::npos);
  EXPECT_NE(error_of([] { moe::parse_disabled_expert("-1:1"); }).find("negative"),
            std::string::npos);
  EXPECT_NE(error_of([] { moe::parse_expert_pin("1:2"); }).find("TOKEN:LAYER:EXPERT"),
            std::string::npos);
  EXPECT_NE(error_of([&] { moe::parse_routing_rule("capacity:0", rule); }).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of([&] { moe::parse_routing_rule("random", rule); }).find("unknown routing rule"),
            std::string::npos);
}

TEST(InterventionParsing, DescribeSaysEverything) {
  RoutingInterventions interventions;
  EXPECT_EQ(interventions.describe(), "none");
  interventions.top_k = 1;
  interventions.disabled = {{2, 3}, {moe::kAllLayers, 5}};
  interventions.pins = {{4, 0, 7}};
  interventions.rule = RoutingRule::Capacity;
  interventions.capacity_factor = 1.5;
  EXPECT_EQ(interventions.describe(),
            "top-k 1 at all layers; expert 3 disabled at layer 2; expert 5 disabled at all layers; "
            "token 4 pinned to expert 7 at layer 0; capacity routing, factor 1.5");
  // A pruning plan: one part per layer, not one per expert.
  RoutingInterventions pruned;
  pruned.disabled = {{0, 1}, {0, 5}, {1, 2}, {0, 6}};
  EXPECT_EQ(pruned.describe(), "experts 1, 5 and 6 disabled at layer 0; expert 2 disabled at layer 1");
}

TEST_F(InterventionsTest, ValidationNamesWhatIsWrong) {
  const moe::ModelConfig& config = model_->config();
  const auto invalid = [&](RoutingInterventions interventions) {
    return error_of([&] { interventions.validate(config); });
  };
  RoutingInterventions ok;
  ok.disabled = {{0, 7}};
  ok.pins = {{3, 2, 0}};
  EXPECT_EQ(invalid(ok), "(no error)");
  EXPECT_NE(invalid(with_top_k(9)).find("top-k 9 is out of range (1..8)"), std::string::npos);
  EXPECT_NE(invalid(disabling({{0, 8}})).find("expert 8 is out of range"), std::string::npos);
  EXPECT_NE(invalid(disabling({{1, 0}})).find("layer 1 is not a MoE layer"), std::string::npos);
  EXPECT_NE(invalid(with_top_k(0, {{5, 1}})).find("layer 5 is not a MoE layer"), std::string::npos);
  RoutingInterventions everything;
  for (int e = 0; e < 8; ++e) everything.disabled.push_back({moe::kAllLayers, e});
  EXPECT_NE(invalid(everything).find("every expert is disabled"), std::string::npos);
  RoutingInterventions pinned_and_disabled = disabling({{0, 2}});
  pinned_and_disabled.pins = {{1, 0, 2}};
  EXPECT_NE(invalid(pinned_and_disabled).find("cannot also be pinned"), std::string::npos);
}

TEST_F(InterventionsTest, WithoutInterventionsRouteLayerEqualsRouteToken) {
  const int n = 12, n_expert = model_->config().n_expert;
  const std::vector<float> logits = random_logits(n);
  std::vector<moe::RouteDecision> decisions;
  moe::route_layer(*model_, 0, logits.data(), n, 0, {}, decisions);
  ASSERT_EQ(decisions.size(), static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) {
    moe::RouteDecision single;
    moe::route_token(model_->architecture(),
                     std::span<const float>(logits).subspan(static_cast<size_t>(t * n_expert),
                                                            static_cast<size_t>(n_expert)),
                     2, single);
    EXPECT_EQ(decisions[static_cast<size_t>(t)].experts, single.experts);
    EXPECT_EQ(decisions[static_cast<size_t>(t)].weights, single.weights);
    EXPECT_FALSE(decisions[static_cast<size_t>(t)].pinned);
  }
}

TEST_F(InterventionsTest, DisabledExpertIsNeverChosenAndWeightsRenormalize) {
  const int n = 40;
  const std::vector<float> logits = random_logits(n);
  RoutingInterventions interventions;
  interventions.disabled = {{0, 3}, {moe::kAllLayers, 5}};
  std::vector<moe::RouteDecision> decisions;
  moe::route_layer(*model_, 0, logits.data(), n, 0, interventions, decisions);
  int had_chosen_3 = 0;
  for (int t = 0; t < n; ++t) {
    // Without the knock-out, how often would expert 3 have been chosen?
    std::vector<moe::RouteDecision> plain;
    moe::route_layer(*model_, 0, logits.data() + t * 8, 1, t, {}, plain);
    had_chosen_3 += std::count(plain[0].experts.begin(), plain[0].experts.end(), 3) > 0;

    const moe::RouteDecision& d = decisions[static_cast<size_t>(t)];
    ASSERT_EQ(d.experts.size(), 2u);
    for (int32_t e : d.experts) {
      EXPECT_NE(e, 3);
      EXPECT_NE(e, 5);
    }
    EXPECT_EQ(d.probs[3], 0.0f);
    EXPECT_EQ(d.probs[5], 0.0f);
    EXPECT_NEAR(std::accumulate(d.probs.begin(), d.probs.end(), 0.0), 1.0, 1e-5);
    EXPECT_NEAR(d.weights[0] + d.weights[1], 1.0, 1e-5);
  }
  EXPECT_GT(had_chosen_3, 0) << "the fixture should exercise the knock-out";
  // Layer 2 only loses expert 5.
  moe::route_layer(*model_, 2, logits.data(), n, 0, interventions, decisions);
  bool saw_3 = false;
  for (const moe::RouteDecision& d : decisions)
    saw_3 = saw_3 || std::count(d.experts.begin(), d.experts.end(), 3) > 0;
  EXPECT_TRUE(saw_3);
}

TEST_F(InterventionsTest, TopKOverrideGlobalAndPerLayer) {
  const int n = 10;
  const std::vector<float> logits = random_logits(n);
  RoutingInterventions interventions;
  interventions.top_k = 1;
  interventions.top_k_by_layer = {{2, 4}};
  std::vector<moe::RouteDecision> decisions;
  moe::route_layer(*model_, 0, logits.data(), n, 0, interventions, decisions);
  for (const moe::RouteDecision& d : decisions) {
    ASSERT_EQ(d.experts.size(), 1u);
    EXPECT_FLOAT_EQ(d.weights[0], 1.0f);
    EXPECT_EQ(d.experts[0], std::max_element(d.probs.begin(), d.probs.end()) - d.probs.begin());
  }
  moe::route_layer(*model_, 2, logits.data(), n, 0, interventions, decisions);
  for (const moe::RouteDecision& d : decisions) EXPECT_EQ(d.experts.size(), 4u);
}

TEST_F(InterventionsTest, PinForcesTheExpertAndKeepsK) {
  const int n = 6, pos0 = 10;
  const std::vector<float> logits = random_logits(n);
  std::vector<moe::RouteDecision> plain, pinned;
  moe::route_layer(*model_, 0, logits.data(), n, pos0, {}, plain);
  // Pin token 12 (third of the call) to its least likely expert.
  const moe::RouteDecision& before = plain[2];
  const int32_t weakest = static_cast<int32_t>(
      std::min_element(before.probs.begin(), before.probs.end()) - before.probs.begin());
  RoutingInterventions interventions;
  interventions.pins = {{12, 0, weakest}, {99, 0, weakest}, {12, 2, weakest}};
  moe::route_layer(*model_, 0, logits.data(), n, pos0, interventions, pinned);
  for (int t = 0; t < n; ++t) {
    const moe::RouteDecision& d = pinned[static_cast<size_t>(t)];
    ASSERT_EQ(d.experts.size(), 2u);
    if (t == 2) {
      EXPECT_TRUE(d.pinned);
      EXPECT_TRUE(std::count(d.experts.begin(), d.experts.end(), weakest) == 1);
      // The other slot is the model's first choice; weights renormalize over the pair.
      EXPECT_TRUE(std::count(d.experts.begin(), d.experts.end(), before.experts[0]) == 1);
      EXPECT_NEAR(d.weights[0] + d.weights[1], 1.0, 1e-6);
      EXPECT_EQ(d.experts.back(), weakest);  // lowest score last
    } else {
      EXPECT_FALSE(d.pinned);
      EXPECT_EQ(d.experts, plain[static_cast<size_t>(t)].experts);
    }
  }
}

TEST_F(InterventionsTest, CapacityIsNeverExceededAndDropsAreRecorded) {
  const int n = 64, n_expert = 8, k = 2;
  const std::vector<float> logits = random_logits(n, 9);
  for (double factor : {0.5, 1.0, 1.25}) {
    RoutingInterventions interventions;
    interventions.rule = RoutingRule::Capacity;
    interventions.capacity_factor = factor;
    std::vector<moe::RouteDecision> plain, capped;
    moe::route_layer(*model_, 0, logits.data(), n, 0, {}, plain);
    moe::route_layer(*model_, 0, logits.data(), n, 0, interventions, capped);
    const auto capacity = static_cast<size_t>(std::ceil(factor * n * k / n_expert));
    std::vector<size_t> used(n_expert, 0);
    size_t dropped = 0;
    for (int t = 0; t < n; ++t) {
      const moe::RouteDecision& d = capped[static_cast<size_t>(t)];
      const moe::RouteDecision& p = plain[static_cast<size_t>(t)];
      EXPECT_EQ(d.experts.size() + d.dropped.size(), static_cast<size_t>(k));
      for (size_t j = 0; j < d.experts.size(); ++j) {
        ++used[static_cast<size_t>(d.experts[j])];
        // Kept choices keep their token-choice weight (no renormalization).
        const auto at =
            std::find(p.experts.begin(), p.experts.end(), d.experts[j]) - p.experts.begin();
        ASSERT_LT(static_cast<size_t>(at), p.experts.size());
        EXPECT_EQ(d.weights[j], p.weights[static_cast<size_t>(at)]);
      }
      for (int32_t e : d.dropped) {
        // A choice is dropped only when its expert was already full.
        EXPECT_EQ(used[static_cast<size_t>(e)], capacity) << "token " << t << " expert " << e;
      }
      dropped += d.dropped.size();
    }
    for (size_t count : used) EXPECT_LE(count, capacity);
    if (factor < 1) {
      EXPECT_GT(dropped, 0u) << "half capacity must drop slots";
    }
  }
}

TEST_F(InterventionsTest, ExpertChoiceGivesEveryExpertExactlyCTokens) {
  const int n = 20, n_expert = 8, k = 2;
  const std::vector<float> logits = random_logits(n, 4);
  RoutingInterventions interventions;
  interventions.rule = RoutingRule::ExpertChoice;
  interventions.disabled = {{0, 6}};
  std::vector<moe::RouteDecision> decisions;
  moe::route_layer(*model_, 0, logits.data(), n, 0, interventions, decisions);
  const size_t capacity = (n * k + n_expert - 1) / n_expert;  // ceil(40 / 8) = 5
  std::vector<size_t> per_expert(n_expert, 0);
  bool some_token_without = false, some_token_with_more = false;
  for (const moe::RouteDecision& d : decisions) {
    for (int32_t e : d.experts) ++per_expert[static_cast<size_t>(e)];
    some_token_without = some_token_without || d.experts.empty();
    some_token_with_more = some_token_with_more || d.experts.size() > static_cast<size_t>(k);
    if (!d.experts.empty()) {
      double sum = 0;
      for (float w : d.weights) sum += w;
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
  for (int e = 0; e < n_expert; ++e) EXPECT_EQ(per_expert[e], e == 6 ? 0u : capacity) << e;
  // Each expert's tokens are its best: no token outside has a higher score for it.
  for (int e = 0; e < n_expert; ++e) {
    if (e == 6) continue;
    float lowest_in = 2, highest_out = -1;
    for (const moe::RouteDecision& d : decisions) {
      const bool in = std::count(d.experts.begin(), d.experts.end(), e) > 0;
      (in ? lowest_in : highest_out) =
          in ? std::min(lowest_in, d.probs[e]) : std::max(highest_out, d.probs[e]);
    }
    EXPECT_GE(lowest_in, highest_out) << e;
  }
  EXPECT_TRUE(some_token_without || some_token_with_more);
}

// The CPU backend's forward with interventions equals the reference forward's.
TEST_F(InterventionsTest, CpuBackendMatchesTheReferenceForward) {
  const std::vector<int32_t> ids = tokens(24);
  std::vector<std::pair<std::string, RoutingInterventions>> cases;
  cases.push_back({"none", {}});
  cases.push_back({"disable", disabling({{0, 1}, {moe::kAllLayers, 4}})});
  cases.push_back({"top1", with_top_k(1, {{2, 3}})});
  cases.push_back({"pins", pinning({{3, 0, 7}, {3, 2, 6}, {10, 2, 0}})});
  cases.push_back({"capacity", capacity_rule(0.75)});
  cases.push_back({"expert_choice", disabling({{2, 0}}, RoutingRule::ExpertChoice)});
  moe::CpuBackend backend(moe::CpuBackendOptions{1});
  for (const auto& [label, interventions] : cases) {
    SCOPED_TRACE(label);
    const moe::testing::ReferenceResult reference =
        moe::testing::reference_forward(model_->file(), ids, {.interventions = interventions});
    auto state = backend.new_state(model_, 64);
    state->set_interventions(interventions);
    moe::RoutingTrace trace(3, 8, 2, {0, 2});
    std::vector<float> logits;
    backend.forward(*state, ids, 0, moe::LogitsMode::All, logits, &trace);
    const size_t n_vocab = static_cast<size_t>(reference.n_vocab);
    for (size_t t = 0; t < ids.size(); ++t) {
      const std::span<const float> row(logits.data() + t * n_vocab, n_vocab);
      EXPECT_LT(moe::testing::max_relative_difference(row, reference.logits[t]), kLogitTolerance)
          << "position " << t;
      for (int layer : {0, 2}) {
        const moe::RoutingRecord& record = trace.at(static_cast<int>(t), layer);
        const moe::testing::ReferenceRouting& expected =
            reference.routing[t][static_cast<size_t>(layer)];
        EXPECT_EQ(record.experts, expected.experts) << "position " << t << " layer " << layer;
        EXPECT_EQ(record.dropped, expected.dropped) << "position " << t << " layer " << layer;
        ASSERT_EQ(record.weights.size(), expected.weights.size());
        for (size_t j = 0; j < record.weights.size(); ++j)
          EXPECT_NEAR(record.weights[j], expected.weights[j], 1e-5);
      }
    }
  }
}

TEST_F(InterventionsTest, SessionRecomputesWhenInterventionsChange) {
  const std::vector<int32_t> ids = tokens(16);
  moe::Session session(model_, std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1}));
  session.set_tokens(ids);
  const std::vector<float> before(session.last_logits().begin(), session.last_logits().end());
  RoutingInterventions knockout;
  knockout.disabled = {{moe::kAllLayers, session.trace().at(15, 0).experts[0]}};
  session.set_interventions(knockout);
  EXPECT_EQ(session.computed_tokens(), 16);
  EXPECT_EQ(session.trace().interventions(), knockout);
  EXPECT_EQ(session.trace().n_tokens(), 16);
  for (int t = 0; t < 16; ++t) {
    for (int32_t e : session.trace().at(t, 0).experts) EXPECT_NE(e, knockout.disabled[0].expert);
  }
  const std::vector<float> after(session.last_logits().begin(), session.last_logits().end());
  EXPECT_NE(before, after);
  // Back to the model's own routing gives the first logits again.
  session.set_interventions({});
  EXPECT_LT(moe::testing::max_relative_difference(session.last_logits(), before), 1e-6);
  // Bad interventions are refused and change nothing.
  EXPECT_THROW(session.set_interventions(disabling({{0, 99}})), moe::Error);
  EXPECT_TRUE(session.interventions().empty());
}

TEST_F(InterventionsTest, BatchRulesRecomputeTheWholeSequence) {
  const std::vector<int32_t> ids = tokens(20, 8);
  const RoutingInterventions capacity = capacity_rule(0.75);
  moe::SessionOptions options;
  options.interventions = capacity;
  options.prefill_chunk = 4;  // ignored under a batch rule: one call for all
  moe::Session session(model_, std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1}),
                       options);
  session.set_tokens(std::span(ids).first(12));
  session.append(std::span(ids).subspan(12));
  EXPECT_EQ(session.reused_tokens(), 0);
  EXPECT_EQ(session.computed_tokens(), 20);
  const moe::testing::ReferenceResult reference =
      moe::testing::reference_forward(model_->file(), ids, {.interventions = capacity});
  EXPECT_LT(moe::testing::max_relative_difference(session.last_logits(), reference.logits.back()),
            kLogitTolerance);
  int dropped = 0;
  for (int t = 0; t < 20; ++t) {
    EXPECT_EQ(session.trace().at(t, 0).experts,
              reference.routing[static_cast<size_t>(t)][0].experts);
    dropped += static_cast<int>(session.trace().at(t, 0).dropped.size());
  }
  EXPECT_GT(dropped, 0);
}

TEST_F(InterventionsTest, EffectIsZeroWithoutInterventionsAndPositiveWithAKnockout) {
  const std::vector<int32_t> ids = tokens(30, 2);
  auto backend = std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1});
  const moe::InterventionEffect none = moe::measure_intervention_effect(model_, backend, ids, {});
  EXPECT_EQ(none.mean_kl, 0.0);
  EXPECT_EQ(none.next_token_kl, 0.0);
  EXPECT_EQ(none.base.perplexity, none.changed.perplexity);
  EXPECT_EQ(none.top1_changed_share, 0.0);
  ASSERT_EQ(none.base.token_nll.size(), 29u);

  // Knock out, at every layer, the expert layer 0 uses most.
  const std::vector<int64_t>& counts = none.base.stats.layers[0].token_counts;
  const int busiest =
      static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  moe::InterventionEffectOptions options;
  options.continuation_tokens = 4;
  const moe::InterventionEffect knockout = moe::measure_intervention_effect(
      model_, backend, ids, disabling({{moe::kAllLayers, busiest}}), options);
  EXPECT_GT(knockout.mean_kl, 0.0);
  EXPECT_GT(knockout.next_token_kl, 0.0);
  EXPECT_NE(knockout.base.perplexity, knockout.changed.perplexity);
  EXPECT_EQ(knockout.changed.stats.layers[0].token_counts[static_cast<size_t>(busiest)], 0);
  EXPECT_EQ(knockout.base.continuation.size(), 4u);
  EXPECT_EQ(knockout.changed.continuation.size(), 4u);
  // The unchanged side is the model itself: its NLL equals a plain Session's.
  moe::Session session(model_, backend);
  const std::vector<float> nll = session.token_nll(ids);
  for (size_t i = 0; i < nll.size(); ++i) EXPECT_NEAR(knockout.base.token_nll[i], nll[i], 1e-4);
  // Both probability vectors are distributions, and KL matches its definition.
  EXPECT_NEAR(moe::kl_divergence(knockout.base.next_probs, knockout.changed.next_probs),
              knockout.next_token_kl, 1e-4);
}

TEST_F(InterventionsTest, ExportsCarryTheInterventionsAndDrops) {
  const std::vector<int32_t> ids = tokens(16, 6);
  RoutingInterventions interventions = capacity_rule(0.5);
  interventions.disabled = {{moe::kAllLayers, 2}};
  interventions.pins = {{1, 0, 3}};
  moe::SessionOptions options;
  options.interventions = interventions;
  moe::Session session(model_, std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1}),
                       options);
  session.set_tokens(ids);
  const moe::RoutingTrace& trace = session.trace();
  std::vector<moe::RoutingTokenInfo> infos;
  for (int t = 0; t < 16; ++t) infos.push_back({t, ids[static_cast<size_t>(t)], "x"});

  const nlohmann::json json = moe::routing_to_json({"m", "m.gguf", "llama", 3}, infos, trace);
  EXPECT_EQ(json.at("schema_version"), 2);
  EXPECT_EQ(json.at("interventions").at("description"), interventions.describe());
  EXPECT_EQ(json.at("stats").at("interventions").at("rule"), "capacity:0.5");
  const moe::RoutingTrace back = moe::routing_trace_from_json(json);
  EXPECT_EQ(back.interventions(), interventions);
  int dropped = 0;
  for (int t = 0; t < 16; ++t) {
    EXPECT_EQ(back.at(t, 0).dropped, trace.at(t, 0).dropped);
    EXPECT_EQ(back.at(t, 0).pinned, trace.at(t, 0).pinned);
    dropped += static_cast<int>(trace.at(t, 0).dropped.size());
  }
  EXPECT_TRUE(back.at(1, 0).pinned);
  EXPECT_GT(dropped, 0);

  std::ostringstream csv;
  moe::write_routing_csv(csv, infos, trace);
  EXPECT_EQ(csv.str().rfind("# interventions: " + interventions.describe() + "\n", 0), 0u);
  std::istringstream in(csv.str());
  int csv_dropped = 0;
  for (const moe::RoutingCsvRow& row : moe::read_routing_csv(in)) {
    if (row.layer == 0 && row.dropped) {
      ++csv_dropped;
      EXPECT_EQ(row.rank, -1);
    }
  }
  EXPECT_EQ(csv_dropped, dropped);

  std::ostringstream load;
  moe::write_load_csv(load, moe::compute_routing_stats(trace), trace.top_k());
  std::istringstream load_in(load.str());
  double share_sum = 0;
  for (const moe::LoadCsvRow& row : moe::read_load_csv(load_in))
    if (row.layer == 0) share_sum += row.load_share;
  EXPECT_NEAR(share_sum, 1.0, 1e-9);  // shares of the slots actually filled

  // Figures of the modified trace say so in their notes; the unmodified ones do not.
  const auto noted = [](const moe::plot::Figure& figure) {
    return std::any_of(figure.notes.begin(), figure.notes.end(), [](const std::string& note) {
      return note.rfind("routing interventions: ", 0) == 0;
    });
  };
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  EXPECT_TRUE(noted(moe::plot::load_heatmap_figure(stats, 2)));
  EXPECT_TRUE(noted(moe::plot::expert_load_figure(stats, 0, moe::plot::LoadMeasure::TokenCount)));
  EXPECT_TRUE(noted(moe::plot::token_path_figure(trace, 3, "x")));
  moe::RoutingTrace plain = trace;
  plain.set_interventions({});
  EXPECT_FALSE(noted(moe::plot::load_heatmap_figure(moe::compute_routing_stats(plain), 2)));

  // Schema 1 files (no dropped column, no interventions) still read.
  std::istringstream v1(
      "token,token_id,text,layer,expert,logit,prob,rank,weight\n0,5,\"a\",0,1,0.5,0.25,0,1\n");
  const std::vector<moe::RoutingCsvRow> rows = moe::read_routing_csv(v1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].dropped);
  nlohmann::json old = json;
  old["schema_version"] = 1;
  old.erase("interventions");
  EXPECT_TRUE(moe::routing_trace_from_json(old).interventions().empty());
}
