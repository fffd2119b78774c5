// Shared experts: a SwiGLU every token of a MoE layer goes through besides its routed experts.
#include <cmath>
#include <vector>

#include "cpu_kernels.hpp"

namespace moe::cpu {

bool shared_experts(Kernels& kernels, const ModelConfig& config, const LayerWeights& layer,
                    const RowMatrix& x, RowMatrix& shared) {
  if (config.shared_experts == SharedExperts::None || layer.ffn_gate_shexp == nullptr)
    return false;
  swiglu(kernels, WeightMatrix::of(*layer.ffn_gate_shexp), WeightMatrix::of(*layer.ffn_up_shexp),
         WeightMatrix::of(*layer.ffn_down_shexp), x, shared);
  if (config.shared_experts == SharedExperts::SigmoidGated) {
    // qwen2moe: the shared expert's own gate, sigmoid(w . x), one scalar per token.
    std::vector<float> storage;
    const std::span<const float> gate = vector_f32(*layer.ffn_gate_inp_shexp, storage);
    const Eigen::Map<const Eigen::VectorXf> w(gate.data(), x.cols());
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      const float logit = x.row(t).dot(w);
      shared.row(t) *= 1.0f / (1.0f + std::exp(-logit));
    }
  }
  return true;
}

}  // namespace moe::cpu
