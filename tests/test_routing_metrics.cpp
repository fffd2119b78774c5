// The published routing metrics of core/analysis, each on a tiny case computed by hand (the
// expected numbers are worked out in the comments).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>

#include "moe/consecutive_repetition.hpp"
#include "moe/cross_layer_consistency.hpp"
#include "moe/domain_specialization.hpp"
#include "moe/error.hpp"
#include "moe/esft_expert_set.hpp"
#include "moe/expert_cache.hpp"
#include "moe/expert_coactivation.hpp"
#include "moe/reap_saliency.hpp"
#include "moe/router_saturation.hpp"
#include "moe/vocabulary_specialization.hpp"

namespace {

moe::RoutingRecord record_of(std::vector<int32_t> experts, std::vector<float> weights = {}) {
  moe::RoutingRecord record;
  record.experts = std::move(experts);
  record.weights = weights.empty() ? std::vector<float>(record.experts.size(), 0.5f) : weights;
  return record;
}

// A one-layer trace whose token t chose sets[t] (a record counts once it has scores).
moe::RoutingTrace trace_of(const std::vector<std::vector<int32_t>>& sets, int n_expert) {
  moe::RoutingTrace trace(1, n_expert, 2, {0});
  for (size_t t = 0; t < sets.size(); ++t) {
    moe::RoutingRecord record = record_of(sets[t]);
    record.probs.assign(static_cast<size_t>(n_expert), 1.0f / static_cast<float>(n_expert));
    trace.set(static_cast<int>(t), 0, record);
  }
  return trace;
}

// Belady's policy for one cache size, simulated the slow, plain way: on a miss with a full cache,
// evict the cached expert whose next request is furthest away (or never comes).
int64_t belady_hits_reference(const std::vector<int32_t>& requests, size_t capacity) {
  std::vector<int32_t> cache;
  int64_t hits = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (std::find(cache.begin(), cache.end(), requests[i]) != cache.end()) {
      ++hits;
      continue;
    }
    if (cache.size() == capacity) {
      size_t victim = 0, furthest = 0;
      for (size_t slot = 0; slot < cache.size(); ++slot) {
        size_t when = i + 1;
        while (when < requests.size() && requests[when] != cache[slot]) ++when;
        if (when >= furthest) {
          furthest = when;
          victim = slot;
        }
      }
      cache.erase(cache.begin() + static_cast<std::ptrdiff_t>(victim));
    }
    cache.push_back(requests[i]);
  }
  return hits;
}

}  // namespace

TEST(ConsecutiveRepetition, CountsPairsByHand) {
  // E = 4, k = 2. {0,1}->{0,2}: same top-1, shared 0. {0,2}->{3,2}: shared 2.
  // {3,2}->{1,0}: nothing. So 1/3 same first choice, 2/3 intersecting sets.
  moe::RepetitionCounts counts;
  const std::vector<std::vector<int32_t>> sets = {{0, 1}, {0, 2}, {3, 2}, {1, 0}};
  for (size_t t = 0; t + 1 < sets.size(); ++t) moe::count_repetition(counts, sets[t], sets[t + 1]);
  moe::count_repetition(counts, {1, 0}, {});  // a token without experts makes no pair
  const moe::Repetition r = moe::consecutive_repetition(counts, 4, 2);
  EXPECT_EQ(r.pairs, 3);
  EXPECT_DOUBLE_EQ(r.same_top1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.sets_intersect, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.random_same_top1, 0.25);
  // 1 - C(2,2)/C(4,2) = 1 - 1/6.
  EXPECT_NEAR(r.random_sets_intersect, 5.0 / 6, 1e-15);
}

TEST(ConsecutiveRepetition, RandomBaselineOfDisjointSets) {
  EXPECT_NEAR(moe::random_sets_intersect(8, 2), 1 - 15.0 / 28, 1e-15);  // C(6,2)/C(8,2)
  EXPECT_NEAR(moe::random_sets_intersect(8, 1), 1.0 / 8, 1e-15);
  EXPECT_DOUBLE_EQ(moe::random_sets_intersect(3, 2), 1.0);  // two 2-sets of 3 always meet
  EXPECT_DOUBLE_EQ(moe::consecutive_repetition({}, 4, 2).same_top1, 0.0);
}

TEST(ExpertCoactivation, RatioOfPairsToChoices) {
  // E = 3: {0,1}, {0,2}, {0,1}. N(0)=3, N(1)=2, N(2)=1; N(0,1)=2, N(0,2)=1, N(1,2)=0.
  std::vector<int64_t> counts;
  for (const auto& set : std::vector<std::vector<int32_t>>{{0, 1}, {0, 2}, {0, 1}}) {
    moe::count_coactivation(counts, 3, set);
  }
  EXPECT_EQ(counts[0], 3);
  EXPECT_EQ(counts[4], 2);
  EXPECT_EQ(counts[1], 2);
  const std::vector<double> coact = moe::coactivation_ratio(counts, 3);
  EXPECT_DOUBLE_EQ(coact[0 * 3 + 1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(coact[1 * 3 + 0], 1.0);
  EXPECT_DOUBLE_EQ(coact[0 * 3 + 2], 1.0 / 3);
  EXPECT_DOUBLE_EQ(coact[2 * 3 + 0], 1.0);
  EXPECT_DOUBLE_EQ(coact[1 * 3 + 2], 0.0);
  EXPECT_DOUBLE_EQ(coact[0], 0.0);  // the diagonal is left 0
}

TEST(CrossLayerConsistency, ConditionalProbabilityRowsSumToK) {
  // E = 3, k = 2: one token {0,1} then {2,0}; a second {0,2} then {1,2}.
  std::vector<int64_t> all, top1;
  moe::count_transition(all, top1, 3, {0, 1}, {2, 0});
  moe::count_transition(all, top1, 3, {0, 2}, {1, 2});
  const std::vector<int64_t> chosen = {2, 1, 1};
  const std::vector<double> p = moe::transition_probability(all, chosen, 3);
  // From 0 (2 tokens): 2 twice, 0 once, 1 once.
  EXPECT_DOUBLE_EQ(p[0 * 3 + 2], 1.0);
  EXPECT_DOUBLE_EQ(p[0 * 3 + 0], 0.5);
  EXPECT_DOUBLE_EQ(p[0 * 3 + 1], 0.5);
  EXPECT_DOUBLE_EQ(p[1 * 3 + 0], 1.0);
  EXPECT_DOUBLE_EQ(p[2 * 3 + 1], 1.0);
  EXPECT_EQ(top1[0 * 3 + 2], 1);
  EXPECT_EQ(top1[0 * 3 + 1], 1);
}

TEST(CrossLayerConsistency, NormalizedMutualInformationByHand) {
  // Top-1 at l = 0,0,1,1. Equal at l+1: NMI 1. Against 0,1,0,1: independent, NMI 0.
  std::vector<int64_t> same = {2, 0, 0, 2}, independent = {1, 1, 1, 1};
  EXPECT_NEAR(moe::normalized_mutual_information(same, 2), 1.0, 1e-12);
  EXPECT_NEAR(moe::normalized_mutual_information(independent, 2), 0.0, 1e-12);
  // Against 0,0,0,1: H(X) = 1, H(Y) = H(3/4, 1/4) = 0.811278, I = H(Y) - H(Y|X) = H(Y) - 1/2,
  // NMI = 2 I / (H(X) + H(Y)) = 0.343711.
  std::vector<int64_t> partial = {2, 0, 1, 1};
  EXPECT_NEAR(moe::normalized_mutual_information(partial, 2), 0.34371101848545077, 1e-12);
  EXPECT_DOUBLE_EQ(moe::normalized_mutual_information({4, 0, 0, 0}, 2), 0.0);  // no entropy
}

TEST(RouterSaturation, OverlapAndTopOneAgreement) {
  // t0: A {0,1}, B {1,0}: overlap 2/2, first choices differ. t1: A {2,3}, B {2,0}: 1/2, agree.
  const moe::RoutingTrace a = trace_of({{0, 1}, {2, 3}}, 4);
  const moe::RoutingTrace b = trace_of({{1, 0}, {2, 0}}, 4);
  const auto layers = moe::router_saturation(a, b);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].tokens, 2);
  EXPECT_DOUBLE_EQ(layers[0].mean_overlap, 0.75);
  EXPECT_DOUBLE_EQ(layers[0].top1_agreement, 0.5);
  EXPECT_THROW(moe::router_saturation(a, trace_of({{0, 1}}, 4)), moe::Error);
}

TEST(ReapSaliency, MeanOfGateTimesOutputNorm) {
  // E = 3. Token 1: {0,1}, gates 0.75/0.25, norms 2/4: e0 += 1.5, e1 += 1.
  // Token 2: {0,2}, gates 0.5/0.5, norms 4/2: e0 += 2, e2 += 1. S = (1.75, 1, 1).
  moe::ReapCounts counts;
  moe::RoutingRecord first = record_of({0, 1}, {0.75f, 0.25f});
  first.values.available = true;
  first.values.expert_norms = {2, 4};
  moe::RoutingRecord second = record_of({0, 2}, {0.5f, 0.5f});
  second.values.available = true;
  second.values.expert_norms = {4, 2};
  moe::RoutingRecord without_norms = record_of({1, 2}, {0.5f, 0.5f});
  for (const auto* record : {&first, &second, &without_norms}) moe::count_reap(counts, 3, *record);
  const std::vector<double> s = moe::reap_saliency(counts);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0], 1.75);
  EXPECT_DOUBLE_EQ(s[1], 1.0);
  EXPECT_DOUBLE_EQ(s[2], 1.0);
  EXPECT_EQ(counts.tokens[0], 2);
  EXPECT_EQ(counts.tokens[1], 1);  // the record without norms is not counted
}

TEST(EsftExpertSet, FewestExpertsCoveringTheMass) {
  // Mass 1, 4, 2, 3 (total 10): by mass 1 (0.4), 3 (0.7), 2 (0.9), 0 (1.0).
  const std::vector<double> mass = {1, 4, 2, 3};
  EXPECT_EQ(moe::fewest_experts_covering(mass, 0.5).experts, (std::vector<int>{1, 3}));
  EXPECT_DOUBLE_EQ(moe::fewest_experts_covering(mass, 0.5).covered, 0.7);
  EXPECT_EQ(moe::fewest_experts_covering(mass, 0.7).experts, (std::vector<int>{1, 3}));
  EXPECT_EQ(moe::fewest_experts_covering(mass, 0.71).experts, (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(moe::fewest_experts_covering(mass, 1.0).experts, (std::vector<int>{1, 3, 2, 0}));
  EXPECT_TRUE(moe::fewest_experts_covering(mass, 0).experts.empty());
  EXPECT_TRUE(moe::fewest_experts_covering({0, 0}, 0.5).experts.empty());
}

TEST(VocabularySpecialization, ShareOfTheMostFrequentExpert) {
  // E = 4, k = 2. Id 5: 6x {0,1}, 4x {0,2}: expert 0 every time, share 1.
  // Id 7: 4x {1,2}, 6x {3,0}: best 6 of 10, share 0.6. Id 9: 9 occurrences, below 10: left out.
  moe::TokenExpertTable table;
  for (int i = 0; i < 6; ++i) moe::count_token_experts(table, 4, 5, {0, 1});
  for (int i = 0; i < 4; ++i) moe::count_token_experts(table, 4, 5, {0, 2});
  for (int i = 0; i < 4; ++i) moe::count_token_experts(table, 4, 7, {1, 2});
  for (int i = 0; i < 6; ++i) moe::count_token_experts(table, 4, 7, {3, 0});
  for (int i = 0; i < 9; ++i) moe::count_token_experts(table, 4, 9, {3, 2});
  const moe::VocabularySpecialization v = moe::vocabulary_specialization(table);
  EXPECT_EQ(v.token_ids, 2);
  EXPECT_DOUBLE_EQ(v.mean_share, 0.8);
  EXPECT_EQ(moe::vocabulary_specialization(table, 9).token_ids, 3);
}

TEST(ExpertCache, LruAndBeladyHitsByHand) {
  // E = 3, k = 1, requests 0 1 0 2 1 0.
  // c = 1: no request repeats the one before it: 0 hits for both.
  // c = 2, LRU: [0] [1 0] hit [0 1] [2 0] [1 2] [0 1]: 1 hit.
  // c = 2, Belady: at "2" the cache holds 0 (next at 5) and 1 (next at 4): evicts 0, then hits 1:
  //   2 hits. c = 3: everything after the first sight hits: 3.
  moe::CacheCounts counts;
  moe::count_cache_hits(counts, 3, {{0}, {1}, {0}, {2}, {1}, {0}});
  EXPECT_EQ(counts.requests, 6);
  EXPECT_EQ(counts.lru_hits, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(counts.belady_hits, (std::vector<int64_t>{0, 2, 3}));
  const moe::CacheCurve curve = moe::cache_hit_rates(counts);
  EXPECT_EQ(curve.sizes, (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(curve.lru[1], 1.0 / 6);
  EXPECT_DOUBLE_EQ(curve.belady[1], 2.0 / 6);
}

TEST(ExpertCache, BeladyNeverLosesToLruAndDocumentsStartCold) {
  moe::CacheCounts counts;
  std::vector<std::vector<int32_t>> stream;
  uint32_t state = 12345;
  for (int t = 0; t < 200; ++t) {
    state = state * 1664525u + 1013904223u;
    const auto a = static_cast<int32_t>((state >> 16) % 6);
    stream.push_back({a, (a + 1 + static_cast<int32_t>((state >> 8) % 5)) % 6});
  }
  moe::count_cache_hits(counts, 6, stream);
  for (size_t c = 0; c < 6; ++c) EXPECT_GE(counts.belady_hits[c], counts.lru_hits[c]) << c + 1;
  // Two one-request documents of the same expert: the second starts cold too, so no hit.
  moe::CacheCounts cold;
  moe::count_cache_hits(cold, 2, {{1}});
  moe::count_cache_hits(cold, 2, {{1}});
  EXPECT_EQ(cold.lru_hits, (std::vector<int64_t>{0, 0}));
}

TEST(ExpertCache, OnePassBeladyEqualsSimulatingEverySize) {
  uint32_t state = 7;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (const auto& [n_expert, top_k] : {std::pair{3, 1}, {5, 2}, {8, 2}, {16, 4}, {12, 1}}) {
    std::vector<std::vector<int32_t>> stream;
    std::vector<int32_t> requests;
    for (int t = 0; t < 150; ++t) {
      std::vector<int32_t> set;
      while (static_cast<int>(set.size()) < top_k) {
        // Skewed choices, as routers make them: low ids more often.
        const auto expert = static_cast<int32_t>((next() % n_expert) * (next() % n_expert) / n_expert);
        if (std::find(set.begin(), set.end(), expert) == set.end()) set.push_back(expert);
      }
      requests.insert(requests.end(), set.begin(), set.end());
      stream.push_back(set);
    }
    moe::CacheCounts counts;
    moe::count_cache_hits(counts, n_expert, stream);
    for (int c = 1; c <= n_expert; ++c) {
      EXPECT_EQ(counts.belady_hits[static_cast<size_t>(c - 1)],
                belady_hits_reference(requests, static_cast<size_t>(c)))
          << "E = " << n_expert << ", k = " << top_k << ", c = " << c;
    }
  }
}

TEST(DomainSpecialization, TokenShareHasBaselineKOverE) {
  // E = 3, k = 2, one domain: {0,1}, {0,2}. N(D) = 2: expert 0 takes every token (share 1),
  // 1 and 2 half; over the 4 slots expert 0 has 1/2.
  moe::RoutingTrace trace = trace_of({{0, 1}, {0, 2}}, 3);
  const auto layers = moe::domain_specialization(std::vector<moe::DomainTrace>{{"code", trace}});
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_DOUBLE_EQ(layers[0].token_share[0][0], 1.0);
  EXPECT_DOUBLE_EQ(layers[0].token_share[0][1], 0.5);
  EXPECT_DOUBLE_EQ(layers[0].token_share[0][2], 0.5);
  EXPECT_DOUBLE_EQ(layers[0].load_share[0][0], 0.5);
  // The same from counts, as a corpus profile keeps them.
  const moe::DomainCounts counts = moe::count_domain({"code", trace});
  EXPECT_EQ(counts.tokens, 2);
  const auto from_counts = moe::domain_specialization(std::vector<moe::DomainCounts>{counts}, {0});
  EXPECT_EQ(from_counts[0].token_share, layers[0].token_share);
  EXPECT_THROW(moe::domain_specialization(std::vector<moe::DomainCounts>{counts}, {0, 1}),
               moe::Error);
}
