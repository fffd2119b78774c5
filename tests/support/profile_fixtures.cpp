#include "profile_fixtures.hpp"

#include <vector>

namespace moe::testing {

namespace {

constexpr int kLayers = 4, kExperts = 8, kTopK = 2;

// Token t of a domain chooses a first expert from a skewed spread (`shift` moves it per domain)
// and a second one next to it.
RoutingTrace skewed_trace(int n_tokens, int shift) {
  RoutingTrace trace(kLayers, kExperts, kTopK, {0, 1, 2, 3});
  for (int t = 0; t < n_tokens; ++t) {
    for (int layer = 0; layer < kLayers; ++layer) {
      RoutingRecord record;
      record.probs.assign(kExperts, 1.0f / kExperts);
      const int first = ((t * t) % 7 + shift + layer) % kExperts;
      const int second = (first + 1 + t % 3) % kExperts;
      record.experts = {first, second};
      record.weights = {0.7f, 0.3f};
      record.values.available = true;
      record.values.expert_norms = {1.0f + static_cast<float>(first % 3),
                                    1.0f + static_cast<float>(second % 2)};
      trace.set(t, layer, record);
    }
  }
  return trace;
}

}  // namespace

CorpusProfile demo_shaped_profile(int tokens_per_domain) {
  const RoutingTrace alpha = skewed_trace(tokens_per_domain, 0);
  const RoutingTrace beta = skewed_trace(tokens_per_domain, 3);
  CorpusProfile profile = make_corpus_profile(profile_model_of(alpha));
  profile.model.name = "moescope-random-demo";
  profile.source = "synthetic-corpus";
  std::vector<int32_t> ids(static_cast<size_t>(tokens_per_domain));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i % 50);
  add_routing(profile, alpha, ids, "alpha");
  add_routing(profile, beta, ids, "beta");
  profile.documents = 2;
  return profile;
}

}  // namespace moe::testing
