#include <cmath>

#include "cpu_kernels.hpp"

namespace moe::cpu {

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
