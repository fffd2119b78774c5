#pragma once
// The trainable llama-style MoE transformer: its shape, where each weight tensor lives in one
// flat parameter vector (in exactly the layout of the GGUF tensor it is exported to), seeded
// initialization, and the whole-model forward and backward passes built from train_ops.hpp.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moe/train_ops.hpp"

namespace moe::train {

struct ModelShape {
  int n_vocab = 4096;
  int n_ctx = 256;  // context length the model is trained for (llama.context_length)
  int n_embd = 192;
  int n_layer = 4;
  int n_head = 6;
  int n_head_kv = 2;
  int n_ff_exp = 384;  // width of each expert
  int n_expert = 8;
  int top_k = 2;
  bool tied_output = true;  // logits use token_embd (no output.weight)
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;

  int head_dim() const { return n_head > 0 ? n_embd / n_head : 0; }
  // Throws moe::Error naming the first inconsistent field.
  void validate() const;
  bool operator==(const ModelShape&) const = default;
};

// One weight tensor inside the flat parameter vector.
struct ParameterTensor {
  std::string name;            // GGUF tensor name, e.g. "blk.0.attn_q.weight"
  std::vector<uint64_t> dims;  // GGUF ne order (fastest first)
  size_t offset = 0;           // first element in the flat vector
  size_t size = 0;             // elements
  bool is_norm = false;        // norm weights: F32 in GGUF, no weight decay, initialized to 1
};

struct LayerOffsets {
  size_t attn_norm = 0, attn_q = 0, attn_k = 0, attn_v = 0, attn_output = 0;
  size_t ffn_norm = 0, router = 0, gate_exps = 0, up_exps = 0, down_exps = 0;
};

class ParameterLayout {
public:
  explicit ParameterLayout(const ModelShape& shape);  // validates the shape

  const ModelShape& shape() const { return shape_; }
  const std::vector<ParameterTensor>& tensors() const { return tensors_; }
  size_t size() const { return size_; }  // total number of parameters
  const ParameterTensor* find(std::string_view name) const;

  size_t token_embd = 0;
  size_t output_norm = 0;
  size_t output = 0;  // == token_embd when the head is tied
  std::vector<LayerOffsets> layers;

private:
  size_t add(std::string name, std::vector<uint64_t> dims, bool is_norm);
  ModelShape shape_;
  std::vector<ParameterTensor> tensors_;
  size_t size_ = 0;
};

// Seeded, platform-independent initialization: norms 1; token_embd N(0, 1/√n_embd); q, k, v,
// expert gate/up N(0, 1/√fan_in); attention output and expert down N(0, 1/√fan_in / √(2·n_layer));
// router N(0, 0.1/√n_embd) (near-uniform routing at the start); untied output N(0, 1/√n_embd).
void init_parameters(const ParameterLayout& layout, uint64_t seed, std::span<float> params);

// Weights of the auxiliary losses in the total loss:
// total = cross-entropy + load_balance · mean_layers(LB) + z_loss · mean_layers(Z).
struct LossWeights {
  double load_balance = 0.01;
  double z_loss = 0.001;
};

struct ForwardStats {
  double cross_entropy = 0;  // mean over target tokens (0 without targets)
  double load_balance = 0;   // mean over layers
  double z_loss = 0;         // mean over layers
  double total = 0;
  std::vector<std::vector<int64_t>> expert_counts;  // [layer][expert]: assignments in this batch
};

// The forward pass keeps every activation the backward pass needs; one instance per batch
// shape can be reused (buffers are kept between calls).
template <typename T>
class Transformer {
public:
  Transformer(const ParameterLayout& layout, ParallelTasks& parallel);

  // tokens: n_seq · seq_len ids (seq_len ≤ n_ctx); targets: the same count, or empty to only
  // compute logits. Throws moe::Error for ids out of range or a wrong count.
  ForwardStats forward(const T* params, std::span<const int32_t> tokens,
                       std::span<const int32_t> targets, int n_seq, int seq_len,
                       const LossWeights& loss_weights);
  // After forward() with targets: grads += loss_scale · ∂total/∂params. Overwrites logits().
  void backward(const T* params, T* grads, T loss_scale);

  // [n_seq · seq_len, n_vocab], valid after forward() until backward().
  const Matrix<T>& logits() const { return logits_; }
  // The router's choices at a layer in the last forward(): probabilities, chosen experts
  // (top_k per row, highest first) and gate weights.
  const RouterState<T>& router_state(int layer) const {
    return layers_.at(static_cast<size_t>(layer)).moe.router;
  }

private:
  struct LayerActivations {
    Matrix<T> x_in, attn_in, q, k, v, attn_out, x_mid, ffn_in;
    std::vector<T> attn_rstd, ffn_rstd;
    AlignedVector<T> probs;
    MoeState<T> moe;
  };
  MoeWeights<T> moe_weights(const T* params, int layer) const;

  const ParameterLayout& layout_;
  ParallelTasks& parallel_;
  int n_seq_ = 0, seq_len_ = 0;
  LossWeights loss_weights_;
  std::vector<int32_t> tokens_, targets_;
  std::vector<LayerActivations> layers_;
  Matrix<T> x_final_, final_normed_, logits_;
  std::vector<T> final_rstd_, logsumexp_;
};

}  // namespace moe::train
