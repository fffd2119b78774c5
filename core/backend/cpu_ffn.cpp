#include <cmath>

#include "cpu_kernels.hpp"

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

void dense_ffn(Kernels& kernels, const LayerWeights& layer, const RowMatrix& x, RowMatrix& out) {
  swiglu(kernels, WeightMatrix::of(*layer.ffn_gate), WeightMatrix::of(*layer.ffn_up),
         WeightMatrix::of(*layer.ffn_down), x, out);
}

}  // namespace moe::cpu
