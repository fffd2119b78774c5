// RoPE parameters from a model's hyper-parameters, following llama.cpp's choices: YaRN blends
// interpolated and extrapolated angles per frequency (ramp between the "correction dims") and
// corrects the magnitude by 1 + 0.1 ln(1/freq_scale); deepseek2 pre-divides that correction out
// of the rotation (its attention scale carries mscale^2 instead).
#include "moe/rope.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "moe/ggml_types.hpp"
#include "moe/model.hpp"

namespace moe {

namespace {

// The pair index at which a frequency turns `rotations` times over the original context.
double yarn_correction_dim(int n_rot, int n_ctx_orig, double rotations, double base) {
  return n_rot * std::log(n_ctx_orig / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
}

constexpr double kYarnBetaFast = 32, kYarnBetaSlow = 1;  // llama.cpp's defaults

}  // namespace

void RopeParams::rotation(int pos, int i, float& cos_out, float& sin_out) const {
  double theta_extrap = pos * std::pow(freq_base, -2.0 * i / n_rot);
  if (!freq_factors.empty()) theta_extrap /= freq_factors[static_cast<size_t>(i)];
  const double theta_interp = freq_scale * theta_extrap;
  double theta = theta_interp;
  double magnitude = attn_factor;
  if (ext_factor != 0) {
    const double y = (i - corr_low) / std::max(0.001, corr_high - corr_low);
    const double ramp = (1 - std::clamp(y, 0.0, 1.0)) * ext_factor;
    theta = theta_interp * (1 - ramp) + theta_extrap * ramp;
    magnitude *= 1 + 0.1 * std::log(1 / freq_scale);
  }
  cos_out = static_cast<float>(std::cos(theta) * magnitude);
  sin_out = static_cast<float>(std::sin(theta) * magnitude);
}

RopeParams rope_params(const Model& model, int n_ctx, int layer) {
  const ModelConfig& c = model.config();
  RopeParams rope;
  rope.pairing = model.architecture().rope;
  rope.n_rot = c.n_rot;
  // Windowed (gpt-oss) and chunked (llama4) layers rotate with rope.freq_base_swa.
  const auto local = [layer](const std::vector<int>& per_layer) {
    return layer >= 0 && layer < static_cast<int>(per_layer.size()) &&
           per_layer[static_cast<size_t>(layer)] > 0;
  };
  const bool windowed = local(c.attention_window) || local(c.attention_chunk);
  rope.freq_base = windowed ? c.rope_base_swa : c.rope_base;
  rope.freq_scale = c.rope_scaling == RopeScaling::None ? 1.0 : c.rope_freq_scale;
  rope.attn_factor = c.rope_attn_factor;
  if (c.rope_scaling == RopeScaling::Yarn) {
    rope.ext_factor = 1;
    const double low =
        std::floor(yarn_correction_dim(c.n_rot, c.rope_n_ctx_orig, kYarnBetaFast, rope.freq_base));
    const double high =
        std::ceil(yarn_correction_dim(c.n_rot, c.rope_n_ctx_orig, kYarnBetaSlow, rope.freq_base));
    rope.corr_low = std::max(0.0, low);
    rope.corr_high = std::min(static_cast<double>(c.n_rot - 1), high);
  }
  if (model.architecture().attention == AttentionKind::LatentMultiHead) {
    rope.attn_factor = 1 / (1 + 0.1 * std::log(1 / rope.freq_scale));
  }
  if (const gguf::TensorInfo* factors = model.rope_factors(n_ctx)) {
    rope.freq_factors.resize(static_cast<size_t>(factors->n_elements));
    dequantize_row(factors->type, factors->data, rope.freq_factors.data(), factors->n_elements);
  }
  return rope;
}

}  // namespace moe
