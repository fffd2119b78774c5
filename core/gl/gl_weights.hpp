#pragma once
// A model's weights on the GPU: matrices in their stored type, norm weights and biases as f32.
#include <memory>
#include <vector>

#include "gl_device.hpp"
#include "moe/model.hpp"

namespace moe::gl {

struct Matrix {
  Buffer buffer;
  GgmlType type = GgmlType::F32;
  unsigned rows = 0;  // outputs of one matrix
  unsigned cols = 0;  // inputs
  unsigned row_bytes = 0;
  unsigned matrix_bytes = 0;  // one expert's matrix in a stacked expert tensor
};

struct Vector {
  Buffer buffer;
  unsigned size = 0;
};

// Matrices that read the same input are fused into one (rows concatenated, per expert for the
// expert tensors) when they share a type, so one dispatch computes them: q|k|v and gate|up.
// `parts` holds one fused matrix, or the separate ones (mixed types, e.g. a Q6_K attn_v beside
// Q4_K q and k) whose outputs go side by side into the same rows.
struct FusedMatrix {
  std::vector<Matrix> parts;
  unsigned rows = 0;  // all parts together
};

struct LayerBuffers {
  Vector attn_norm, ffn_norm;
  FusedMatrix attn_qkv;  // rows [q | k | v]
  Vector qkv_bias;       // [q | k | v] biases, zeros where absent; size 0 when none
  Vector q_norm, k_norm;  // q/k norms over the projection or one head (its size); size 0: none
  Matrix attn_output;
  Vector attn_output_bias;  // size 0 when absent
  Matrix router;            // MoE layers
  FusedMatrix gate_up;      // rows [gate | up]: the experts' (MoE) or the dense FFN's
  Matrix down;
  // Shared experts (MoE layers that have them): one SwiGLU, and qwen2moe's sigmoid gate vector.
  FusedMatrix shared_gate_up;  // no parts when absent
  Matrix shared_down;
  Vector shared_gate;  // size 0: weight 1
};

class Weights {
public:
  // Checks that the GL backend implements the model (its tensor roles and settings, tensor
  // types, sizes) and uploads it. Throws moe::Error naming what is not supported.
  Weights(std::shared_ptr<Device> device, std::shared_ptr<const Model> model);
  ~Weights();

  const Model& model() const { return *model_; }
  Device& device() const { return *device_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  const LayerBuffers& layer(int index) const { return layers_[static_cast<size_t>(index)]; }
  const Vector& output_norm() const { return output_norm_; }
  const Matrix& output() const { return output_; }

private:
  std::shared_ptr<Device> device_;
  std::shared_ptr<const Model> model_;
  std::vector<LayerBuffers> layers_;
  Vector output_norm_;
  Matrix output_;
};

}  // namespace moe::gl
