#include "moe/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "moe/error.hpp"

namespace moe {

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) throw Error("sampling: no logits");
  // max_element keeps the first of equal maxima: ties go to the lowest id.
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
  if (!std::isfinite(options.temperature)) throw Error("sampling: temperature must be finite");
  if (!(options.top_p > 0.0f && options.top_p <= 1.0f)) {
    throw Error("sampling: top_p must be in (0, 1], got " + std::to_string(options.top_p));
  }
}

double Sampler::uniform01() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<const float> logits) {
  if (options_.temperature <= 0.0f) return argmax(logits);

  const float max_logit = logits[static_cast<size_t>(argmax(logits))];
  std::vector<double> weights(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    weights[i] = std::exp((static_cast<double>(logits[i]) - max_logit) / options_.temperature);
  }
  std::vector<int32_t> candidates(logits.size());
  std::iota(candidates.begin(), candidates.end(), 0);
  double kept_mass = std::accumulate(weights.begin(), weights.end(), 0.0);

  if (options_.top_p < 1.0f) {
    // Nucleus: the most likely tokens (ties: lower id first) until their mass reaches top_p.
    std::sort(candidates.begin(), candidates.end(), [&](int32_t a, int32_t b) {
      return weights[a] > weights[b] || (weights[a] == weights[b] && a < b);
    });
    const double limit = options_.top_p * kept_mass;
    double mass = 0;
    size_t kept = 0;
    while (kept < candidates.size() && (kept == 0 || mass < limit)) {
      mass += weights[candidates[kept]];
      ++kept;
    }
    candidates.resize(kept);
    kept_mass = mass;
  }

  double target = uniform01() * kept_mass;
  for (int32_t candidate : candidates) {
    target -= weights[candidate];
    if (target < 0) return candidate;
  }
  return candidates.back();  // rounding left a sliver of mass
}

}  // namespace moe
