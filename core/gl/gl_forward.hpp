#pragma once
// The GL forward pass's pieces, shared by its files: gl_backend.cpp (the layer loop, embeddings,
// logits), gl_kernels.cpp (one call per shader), gl_attention.cpp (the attention block) and
// gl_moe.cpp (the FFN block: dense, routed and shared experts).
#include <vector>

#include "gl_device.hpp"
#include "gl_weights.hpp"
#include "moe/gl_backend.hpp"
#include "moe/interventions.hpp"
#include "moe/router.hpp"
#include "moe/routing.hpp"

namespace moe {

namespace gl {

inline unsigned ceil_div(size_t a, size_t b) { return static_cast<unsigned>((a + b - 1) / b); }
inline size_t floats(size_t n) { return n * sizeof(float); }

// Activations of one forward call, reused between calls (grown as needed).
struct Scratch {
  gl::Buffer x, normed, qkv, attended, projected, ffn_out, gate_up, hidden, expert_in,
      expert_out, shared_out, router_logits, logits;
  gl::Buffer q_low, compressed, kv;  // latent attention's
  gl::Buffer query_scales;                 // NoPE layers' per-row query temperature
  std::vector<gl::Buffer> rope_tables;     // one per distinct RoPE of the model's layers
  gl::Buffer groups, slot_rows, slot_experts, slot_weights, token_ranges, choices;
  // route.comp's inputs (per expert) and decisions (per token)
  gl::Buffer route_bias, route_enabled, route_probs, route_experts, route_weights, route_groups;
};

// Where a result goes: columns [col, col + width) of rows `stride` floats apart, added to the
// values there when `accumulate` is set, scaled by `alpha` first.
struct Destination {
  gl::Buffer* buffer;
  unsigned stride;
  unsigned col = 0;
  bool accumulate = false;
  float alpha = 1;
};

// One sequence's per-layer state the blocks read: its KV cache and RoPE table.
struct LayerCache {
  gl::Buffer* keys;
  gl::Buffer* values;
  const gl::Buffer* rope_table;
};

}  // namespace gl

struct GlBackend::Impl {
  std::shared_ptr<gl::Device> device;
  std::shared_ptr<gl::Weights> recent_weights;  // the last model's, kept for the next state
  gl::Scratch scratch;

  // Kernels (gl_kernels.cpp). Output buffers are reserved by the caller (reserving may discard
  // contents).
  // in_stride: floats between input rows (0: the matrix's width).
  void matmul(const gl::Matrix& w, const gl::Buffer& in, unsigned n, gl::Destination out,
              unsigned in_stride = 0);
  void matmul_grouped(const gl::Matrix& w, const gl::Buffer& in, bool gather, unsigned n_groups,
                      unsigned max_slots, gl::Destination out);
  // Every part of a fused matrix into its columns of `out` (plain or grouped).
  void matmul_fused(const gl::FusedMatrix& w, const gl::Buffer& in, unsigned n, gl::Buffer& out);
  void matmul_fused_grouped(const gl::FusedMatrix& w, const gl::Buffer& in, bool gather,
                            unsigned n_groups, unsigned max_slots, gl::Buffer& out);
  // target += addend; += bias (per column, or per row's expert when `bias_rows` is given:
  // bias row bias_rows[row]); then clamped to +-clamp (when > 0).
  void add(gl::Buffer& target, const gl::Buffer* addend, const gl::Vector* bias, unsigned n,
           unsigned cols, float clamp = 0, const gl::Buffer* bias_rows = nullptr);
  // y = softcap(scale * y), element-wise (no cap when softcap is 0).
  void scale(gl::Buffer& target, unsigned n, float scale, float softcap);
  // The block norm of n rows (from first_row) into `out`: RMSNorm or LayerNorm, times the
  // weight, plus the bias when it has one.
  void norm(NormKind kind, const gl::Buffer& in, unsigned first_row, unsigned n,
            const gl::Vector& weight, const gl::Vector& bias, unsigned cols, float eps,
            gl::Destination out);
  // RMSNorm in place of n_groups groups of each row, times the weight (none: size 0 and width).
  void group_norm(gl::Buffer& rows, unsigned n, unsigned row_stride, unsigned first_col,
                  unsigned n_groups, unsigned width, const gl::Vector* weight, float eps);
  // Rotates n_rot dims from `offset` on in each of n_heads heads of head_dim of each row.
  void rope(gl::Buffer& rows, const gl::Buffer& table, unsigned n, unsigned n_heads,
            unsigned head_dim, unsigned offset, unsigned row_stride, unsigned n_rot,
            RopePairing pairing);
  // The experts' activation of [gate | up] rows into `out` (width wide), optionally after
  // per-expert biases of gate and up (the slot's expert from slot_experts).
  void glu(ExpertActivation activation, const gl::Buffer& gate_up, unsigned n_rows,
           unsigned width, const gl::Vector* biases, gl::Buffer& out);

  // Blocks.
  void attention_block(const Model& model, const gl::LayerBuffers& layer, int il, unsigned n,
                       int pos0, const gl::LayerCache& cache);
  // The [q | k | v] rows of the attention block, rotated; false for a layer without RoPE (whose
  // queries' temperatures are in query_scales).
  bool standard_qkv(const Model& model, const gl::LayerBuffers& layer, int il, unsigned n,
                    int pos0, const gl::Buffer& rope_table);
  void latent_qkv(const Model& model, const gl::LatentAttention& latent, unsigned n,
                  const gl::Buffer& rope_table);
  void ffn_block(const Model& model, const gl::LayerBuffers& layer, int il, unsigned n, int pos0,
                 const RoutingInterventions& interventions, RoutingTrace* trace);
  void moe_ffn(const Model& model, const gl::LayerBuffers& layer, int layer_index, unsigned n,
               int pos0, const RoutingInterventions& interventions, RoutingTrace* trace,
               gl::Destination out);
  // The decisions of route_layer for the layer's router logits (in scratch.router_logits):
  // computed by route.comp where the interventions allow (route_on_gpu), else read back and
  // routed on the CPU. Counts each layer's path in routing_counts.
  void route(const Model& model, int layer_index, unsigned n, int pos0,
             const RoutingInterventions& interventions, std::vector<RouteDecision>& decisions);
  bool route_on_gpu(const Model& model, int layer_index, unsigned n, int pos0,
                    const RoutingInterventions& interventions,
                    std::vector<RouteDecision>& decisions);
  GlBackend::RoutingCounts routing_counts;
  void dense_ffn(const gl::FusedMatrix& gate_up, const gl::Matrix& down,
                 ExpertActivation activation, unsigned n, gl::Destination out);
  // The trace's records of a MoE layer with its values in norms, as the CPU backend records
  // them: the FFN input, each chosen expert's output and the shared experts' output read back.
  void record_layer(const Model& model, int layer_index, unsigned n, int pos0,
                    const std::vector<float>& logits, std::vector<RouteDecision> decisions,
                    const std::vector<std::vector<uint32_t>>& slot_of_rank, size_t n_slots,
                    bool has_shared, RoutingTrace& trace);
};

}  // namespace moe
