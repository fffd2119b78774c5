#include <array>
#include <cmath>
#include <cstdint>

#include "cpu_kernels.hpp"
#include "moe/ggml_types.hpp"

namespace moe::cpu {

namespace {

// ggml's CPU GELU: the tanh form of the input's f16 value, rounded to f16, looked up in a table
// of all 65536 f16 inputs; 0 at or below -10 and the input itself at or above 10.
float ggml_gelu(float x) {
  static const std::array<float, 65536> table = [] {
    std::array<float, 65536> values{};
    for (uint32_t bits = 0; bits < values.size(); ++bits) {
      const float h = f16_to_f32(static_cast<uint16_t>(bits));
      const float g =
          0.5f * h *
          (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
      values[bits] = f16_to_f32(f32_to_f16(g));
    }
    return values;
  }();
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return table[f32_to_f16(x)];
}

}  // namespace

void expert_activation(ExpertActivation activation, RowMatrix& gated, const RowMatrix& upped) {
  switch (activation) {
    case ExpertActivation::SwiGlu:
      // silu(g) * u
      gated.array() = gated.array() / (1.0f + (-gated.array()).exp()) * upped.array();
      break;
    case ExpertActivation::ClampedSwiGlu: {
      // gpt-oss (constants as llama.cpp hard-codes them): g = min(g, 7), u = clamp(u, -7, 7),
      // g * sigmoid(1.702 g) * (u + 1).
      constexpr float kAlpha = 1.702f, kLimit = 7.0f;
      const auto g = gated.array().min(kLimit);
      const auto u = upped.array().max(-kLimit).min(kLimit);
      gated.array() = (g / (1.0f + (-kAlpha * g).exp()) * (u + 1.0f)).eval();
      break;
    }
    case ExpertActivation::GeGlu:
      gated = gated.unaryExpr([](float g) { return ggml_gelu(g); }).cwiseProduct(upped);
      break;
  }
}

void swiglu(Kernels& kernels, const WeightMatrix& gate, const WeightMatrix& up,
            const WeightMatrix& down, const RowMatrix& x, RowMatrix& out) {
  RowMatrix gated, upped;
  kernels.matmul(gate, x, gated);
  kernels.matmul(up, x, upped);
  // silu(g) * u, in place in `gated`.
  gated.array() = gated.array() / (1.0f + (-gated.array()).exp()) * upped.array();
  kernels.matmul(down, gated, out);
}

void dense_ffn(Kernels& kernels, const LayerWeights& layer, ExpertActivation activation,
               const RowMatrix& x, RowMatrix& out) {
  if (activation == ExpertActivation::SwiGlu) {
    swiglu(kernels, WeightMatrix::of(*layer.ffn_gate), WeightMatrix::of(*layer.ffn_up),
           WeightMatrix::of(*layer.ffn_down), x, out);
    return;
  }
  RowMatrix gated, upped;  // grok's dense FFN: the experts' GeGLU
  kernels.matmul(WeightMatrix::of(*layer.ffn_gate), x, gated);
  kernels.matmul(WeightMatrix::of(*layer.ffn_up), x, upped);
  expert_activation(activation, gated, upped);
  kernels.matmul(WeightMatrix::of(*layer.ffn_down), gated, out);
}

}  // namespace moe::cpu
