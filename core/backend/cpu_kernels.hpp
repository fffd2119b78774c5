#pragma once
// The CPU backend's building blocks, shared by its source files (private to core/backend).
#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "moe/arch.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"
#include "moe/model.hpp"
#include "moe/rope.hpp"
#include "moe/routing.hpp"
#include "moe/thread_pool.hpp"

namespace moe::cpu {

// Activations: one row per token.
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A weight matrix in its stored type: `rows` rows of `cols` elements each. A GGUF tensor with
// ne [cols, rows] is exactly this; y = W x maps cols inputs to rows outputs.
struct WeightMatrix {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;

  static WeightMatrix of(const gguf::TensorInfo& tensor);
  // Expert `expert` of a 3-D expert tensor (ne [cols, rows, n_expert]).
  static WeightMatrix expert(const gguf::TensorInfo& tensor, int expert);
  // Rows [first, first + count) as f32, row-major, into dst (count * cols floats).
  void rows_to_f32(int64_t first, int64_t count, float* dst) const;
};

// n F16 / BF16 values to f32 (same results as ggml_types' conversions, vectorized).
void f16_row_to_f32(const uint8_t* src, float* dst, int64_t n);
void bf16_row_to_f32(const uint8_t* src, float* dst, int64_t n);
// The F16 conversion without CPU-specific instructions (what f16_row_to_f32 falls back to).
void f16_row_to_f32_portable(const uint8_t* src, float* dst, int64_t n);

// A 1-D tensor (norm weight, bias) as f32; converted into `storage` unless stored as F32.
std::span<const float> vector_f32(const gguf::TensorInfo& tensor, std::vector<float>& storage);

struct QuantDot;  // cpu_quant_dot.hpp

// Per-worker scratch memory, aligned like Eigen's packets: with malloc's 16-byte alignment two
// workers' buffers could differ in alignment, Eigen would split a reduction into its scalar and
// vector parts differently, and the result would depend on which thread ran the task.
using ScratchBuffer = std::vector<float, Eigen::aligned_allocator<float>>;

// Thread pool plus per-worker scratch memory.
class Kernels {
public:
  // quantized_activations: quantized weights are multiplied with 8-bit quantized activations
  // in integers (cpu_quant_dot.hpp, as llama.cpp does); false converts them to f32 instead
  // (exact up to f32 rounding, slower).
  explicit Kernels(int n_threads, bool quantized_activations = true);
  ThreadPool& pool() { return pool_; }
  int n_threads() const { return pool_.size(); }
  ScratchBuffer& scratch(int worker) { return scratch_[static_cast<size_t>(worker)]; }

  // out (n × rows) = in (n × cols) · Wᵀ, parallel over blocks of weight rows.
  void matmul(const WeightMatrix& weight, const RowMatrix& in, RowMatrix& out);
  // Several independent products; those with quantized weights share one parallel run (one
  // fork-join instead of one per matrix: the experts of a decoded token). Same results as
  // calling matmul on each.
  struct MatmulJob {
    WeightMatrix weight;
    const RowMatrix* in;
    RowMatrix* out;
  };
  void matmul_many(std::span<const MatmulJob> jobs);

private:
  void matmul_converted(const WeightMatrix& weight, const RowMatrix& in, RowMatrix& out);

  ThreadPool pool_;
  bool quantized_activations_;
  std::vector<ScratchBuffer> scratch_;
  std::vector<uint8_t> activations_;  // the input rows quantized for matmul_many
};

// Row-wise RMSNorm: out = x / sqrt(mean(x²) + eps) ⊙ weight (+ bias when not empty).
void rms_norm(const RowMatrix& x, std::span<const float> weight, float eps, RowMatrix& out);
void rms_norm(const RowMatrix& x, std::span<const float> weight, std::span<const float> bias,
              float eps, RowMatrix& out);
// The block norm of the architecture: RMSNorm (with bias where given) or LayerNorm.
void block_norm(NormKind kind, const RowMatrix& x, std::span<const float> weight,
                std::span<const float> bias, float eps, RowMatrix& out);
// In place, over each consecutive group of weight.size() columns (one head, or the whole row).
void rms_norm_groups(RowMatrix& x, std::span<const float> weight, float eps);

// Rotates n_rot dims of each head of every row, starting `offset` dims into the head; row t is
// at position pos0 + t.
void apply_rope(RowMatrix& x, int n_heads, int head_dim, int offset, const RopeParams& rope,
                int pos0);

// What some layers add to causal attention (gpt-oss, llama4).
struct AttentionExtras {
  int window = 0;                // > 0: a query at p sees only keys at p - window < p_k <= p
  int chunk = 0;                 // > 0: a query at p sees only keys from floor(p / chunk) * chunk
  std::span<const float> sinks;  // empty, or per head a logit in the softmax with no value
  float softcap = 0;             // > 0: scaled scores become softcap * tanh(score / softcap)
};

// Causal grouped-query attention of the n rows of q (positions pos0..pos0+n-1) over cached
// keys/values rows [0, pos0 + n), scores scaled by config.kq_scale.
// out: n × (n_head * head_dim_v).
void attention(Kernels& kernels, const ModelConfig& config, const RowMatrix& q,
               const RowMatrix& k_cache, const RowMatrix& v_cache, int pos0, RowMatrix& out,
               const AttentionExtras& extras = {});

// The experts' activation of the gate and up products, in place in `gated`.
void expert_activation(ExpertActivation activation, RowMatrix& gated, const RowMatrix& upped);

// SwiGLU feed-forward: out = down(silu(gate x) ⊙ up x).
void swiglu(Kernels& kernels, const WeightMatrix& gate, const WeightMatrix& up,
            const WeightMatrix& down, const RowMatrix& x, RowMatrix& out);

// The attention block of layer `il` on the normed input: projections (standard or latent),
// QK-norm, RoPE, the new keys/values into the caches, attention and the output projection.
void attention_block(Kernels& kernels, const Model& model, int il, const RowMatrix& x, int pos0,
                     const RopeParams& rope, RowMatrix& k_cache, RowMatrix& v_cache,
                     RowMatrix& out);

// The layer's shared experts' output (qwen2moe: sigmoid-gated; deepseek2: always weight 1) in
// `shared`; false (and `shared` untouched) for a layer without them.
bool shared_experts(Kernels& kernels, const ModelConfig& config, const LayerWeights& layer,
                    const RowMatrix& x, RowMatrix& shared);

// The dense FFN of a layer without experts (or grok's beside them): SwiGLU, or the given
// gated activation.
void dense_ffn(Kernels& kernels, const LayerWeights& layer, ExpertActivation activation,
               const RowMatrix& x, RowMatrix& out);

// The MoE FFN: routed experts (router logits, then route_layer: top-k or the intervention's
// rule, gate weights; tokens are grouped by expert so each expert's weights are read once per
// call) plus the shared experts. Records routing and the layer's values (moe/routing.hpp
// LayerValues) into `trace` (if non-null) at pos0 + t.
void moe_ffn(Kernels& kernels, const Model& model, const LayerWeights& layer, int layer_index,
             const RowMatrix& x, int pos0, const RoutingInterventions& interventions,
             RoutingTrace* trace, RowMatrix& out);

}  // namespace moe::cpu
