#pragma once
// Rotary position embedding as llama.cpp applies it for a model: pairing, base, linear / YaRN /
// LongRoPE scaling and the magnitude factor. Backend-neutral; every backend rotates with these.
#include <vector>

#include "moe/arch.hpp"

namespace moe {

class Model;

struct RopeParams {
  RopePairing pairing = RopePairing::Adjacent;
  int n_rot = 0;             // leading dims of a head (or of its rope part) that rotate
  double freq_base = 10000;  // theta_i = pos * base^(-2i / n_rot)
  double freq_scale = 1;     // interpolation: theta_i * freq_scale (1 / rope.scaling.factor)
  double ext_factor = 0;     // YaRN: 1 blends interpolation with extrapolation per frequency
  double attn_factor = 1;    // cos and sin are multiplied by this (and YaRN's own correction)
  double corr_low = 0;       // YaRN ramp: pairs below corr_low extrapolate, above corr_high
  double corr_high = 0;      // interpolate
  std::vector<float> freq_factors;  // empty, or n_rot / 2 divisors of theta_i (LongRoPE, llama 3)

  // cos and sin of pair i's angle at position `pos`, each times the magnitude.
  void rotation(int pos, int i, float& cos_out, float& sin_out) const;
  bool operator==(const RopeParams&) const = default;
};

// The RoPE of `model` for a sequence of at most n_ctx positions (LongRoPE picks its long
// factors past the original context length, as llama.cpp does from the context size). With a
// layer: that layer's (windowed layers of gpt-oss and chunked ones of llama4 rotate with
// rope.freq_base_swa).
RopeParams rope_params(const Model& model, int n_ctx, int layer = -1);

}  // namespace moe
