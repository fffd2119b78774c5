// I(domain; top-1 expert) and per-domain load on traces whose answer is known.
#include <gtest/gtest.h>

#include <cmath>

#include "moe/domain_specialization.hpp"
#include "moe/error.hpp"

namespace {

// A one-layer trace where token t chose `experts[t]` first (top-2: the next expert second).
moe::RoutingTrace trace_choosing(const std::vector<int32_t>& experts, int n_expert = 4) {
  moe::RoutingTrace trace(1, n_expert, 2, {0});
  for (size_t t = 0; t < experts.size(); ++t) {
    const int32_t second = (experts[t] + 1) % n_expert;
    moe::RoutingRecord record;
    record.probs.assign(static_cast<size_t>(n_expert), 0.25f);
    record.experts = {experts[t], second};
    record.weights = {0.6f, 0.4f};
    trace.set(static_cast<int>(t), 0, record);
  }
  return trace;
}

}  // namespace

TEST(DomainSpecialization, SeparateExpertsPerDomainGiveLog2DomainsBits) {
  const std::vector<moe::DomainTrace> domains = {{"code", trace_choosing({0, 0, 0, 0})},
                                                 {"maths", trace_choosing({2, 2, 2, 2})}};
  const auto layers = moe::domain_specialization(domains);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_NEAR(layers[0].mi_bits, 1.0, 1e-12);  // two equally likely domains, fully determined
  EXPECT_EQ(layers[0].top1_counts[0][0], 4);
  EXPECT_EQ(layers[0].top1_counts[1][2], 4);
  EXPECT_NEAR(layers[0].load_share[0][0], 0.5, 1e-12);  // first choice: half the slots
  EXPECT_NEAR(layers[0].load_share[0][1], 0.5, 1e-12);  // second choice
  EXPECT_NEAR(layers[0].load_share[1][2], 0.5, 1e-12);
}

TEST(DomainSpecialization, SameRoutingInEveryDomainGivesZeroBits) {
  const std::vector<moe::DomainTrace> domains = {{"a", trace_choosing({0, 1, 2, 3})},
                                                 {"b", trace_choosing({3, 2, 1, 0})},
                                                 {"c", trace_choosing({1, 0, 3, 2})}};
  EXPECT_NEAR(moe::domain_specialization(domains)[0].mi_bits, 0.0, 1e-12);
}

TEST(DomainSpecialization, PartialDependenceMatchesHandComputation) {
  // counts: a -> {e0: 3, e1: 1}, b -> {e0: 1, e1: 3}
  const double mi = moe::mutual_information_bits({{3, 1}, {1, 3}});
  const double expected = 2 * (3.0 / 8) * std::log2(3.0 / 8 / 0.25) + 2 * (1.0 / 8) * std::log2(1.0 / 8 / 0.25);
  EXPECT_NEAR(mi, expected, 1e-12);
  EXPECT_GT(mi, 0.0);
  EXPECT_LT(mi, 1.0);
}

TEST(DomainSpecialization, RejectsMismatchedShapesAndNoDomains) {
  EXPECT_THROW(moe::domain_specialization({}), moe::Error);
  const std::vector<moe::DomainTrace> mixed = {{"a", trace_choosing({0}, 4)}, {"b", trace_choosing({0}, 8)}};
  EXPECT_THROW(moe::domain_specialization(mixed), moe::Error);
}
