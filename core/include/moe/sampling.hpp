#pragma once
// Choosing the next token from logits: greedy, temperature and nucleus (top-p) sampling.
// Deterministic for a seed on every platform (own uniform draw from std::mt19937_64).
#include <cstdint>
#include <random>
#include <span>

namespace moe {

struct SamplingOptions {
  float temperature = 0;  // 0 (or below): greedy, the highest logit
  float top_p = 1;        // keep the smallest set of most likely tokens whose mass >= top_p
  uint64_t seed = 0;
};

// Index of the largest logit; ties go to the lowest id. Throws moe::Error on empty input.
int32_t argmax(std::span<const float> logits);

class Sampler {
public:
  // Throws moe::Error for top_p outside (0, 1] or a non-finite temperature.
  explicit Sampler(const SamplingOptions& options);
  const SamplingOptions& options() const { return options_; }
  int32_t sample(std::span<const float> logits);

private:
  double uniform01();  // [0, 1) with 53 random bits

  SamplingOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace moe
