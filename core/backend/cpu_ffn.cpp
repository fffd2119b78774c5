#include <cmath>

#include "cpu_kernels.hpp"
#include "moe/ggml_gelu.hpp"

namespace moe::cpu {

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
