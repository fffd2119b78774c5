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

// deepseek2's multi-head latent attention: the queries (plain, or low rank with a norm between),
// the compressed latent + rope key, its norm, and the decompression to per-head [k_nope | v]
// (the split attn_k_b / attn_v_b of newer files put back together as one f32 matrix).
struct LatentAttention {
  Matrix q;  // or q_a, q_b
  Matrix q_a, q_b;
  Vector q_a_norm;
  Matrix kv_a;
  Vector kv_a_norm;
  Matrix kv_b;
};

// Optional vectors have size 0 when the model has none.
struct LayerBuffers {
  Vector attn_norm, ffn_norm;
  Vector attn_norm_bias, ffn_norm_bias;  // phimoe
  FusedMatrix attn_qkv;  // rows [q | k | v] (standard attention)
  LatentAttention latent;  // latent attention
  Vector qkv_bias;       // [q | k | v] biases, zeros where absent; size 0 when none
  Vector q_norm, k_norm;  // q/k norms over the projection or one head (its size); size 0: none
  Matrix attn_output;
  Vector attn_output_bias;  // times the residual multiplier unless attn_output_norm is present
  Vector attn_sinks;        // gpt-oss: one logit per head
  Vector attn_output_norm;  // grok: RMSNorm of the attention output
  Vector ffn_post_norm;     // grok: RMSNorm of the FFN output
  Matrix router;            // MoE layers
  Vector router_bias;       // gpt-oss
  FusedMatrix gate_up;      // rows [gate | up]: the experts' (MoE) or the dense FFN's
  Matrix down;
  // gpt-oss: per expert, its [gate | up] biases (row e: 2 n_ff values) and its down bias.
  Vector gate_up_bias, down_bias;
  // grok-2: a dense FFN beside the experts of a MoE layer (no parts when absent).
  FusedMatrix dense_gate_up;
  Matrix dense_down;
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
  const Vector& output_norm_bias() const { return output_norm_bias_; }  // phimoe; size 0: none
  const Matrix& output() const { return output_; }
  const Vector& output_bias() const { return output_bias_; }  // phimoe; size 0: none

private:
  std::shared_ptr<Device> device_;
  std::shared_ptr<const Model> model_;
  std::vector<LayerBuffers> layers_;
  Vector output_norm_, output_norm_bias_;
  Matrix output_;
  Vector output_bias_;
};

}  // namespace moe::gl
