#pragma once
// The GL forward pass's pieces, shared by its files: gl_backend.cpp (the layer loop, embeddings,
// logits), gl_kernels.cpp (one call per shader), gl_attention.cpp (the attention block) and
// gl_moe.cpp (the FFN block: dense, routed and shared experts), gl_route.cpp and gl_groups.cpp
// (routing and grouping the slots by expert), gl_trace.cpp (the routing trace).
#include <algorithm>
#include <optional>
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

// `values` (a vector of 4-byte words) into `buffer`, grown to hold them (at least one word, so
// that an empty list still binds).
template <typename Values>
void upload_values(gl::Buffer& buffer, const Values& values) {
  const size_t bytes = values.size() * sizeof(values[0]);
  buffer.reserve(std::max<size_t>(bytes, 4));
  buffer.upload(values.data(), bytes);
}

constexpr unsigned kMatmulRowsPerGroup = 4;  // matmul.comp's ROWS_PER_GROUP
constexpr unsigned kMatmulTile = 8;          // matmul.comp's TILE (route_groups.comp's too)

// Indirect dispatch sizes the grouping writes after the groups: one per distinct row-tile
// count of a layer's grouped matrices (gate/up parts and down).
constexpr size_t kMaxGroupedCommands = 4;  // route_groups.comp's MAX_COMMANDS
// The most experts route_groups.comp groups (its MAX_EXPERTS); larger layers route on the CPU.
constexpr size_t kMaxGpuGroupedExperts = 2048;

// Activations of one forward call, reused between calls (grown as needed).
struct Scratch {
  gl::Buffer x, normed, qkv, attended, projected, ffn_out, gate_up, hidden, expert_in,
      expert_out, shared_out, router_logits, logits;
  gl::Buffer q_low, compressed, kv;  // latent attention's
  gl::Buffer query_scales;                 // NoPE layers' per-row query temperature
  std::vector<gl::Buffer> rope_tables;     // one per distinct RoPE of the model's layers
  // The slots grouped by expert: groups holds {expert, first slot, count} per non-empty group
  // in expert-id order (3 words per expert reserved), then at word commands_at the grouped
  // matmuls' DispatchIndirectCommands, one per row-tile count in grouped_row_tiles.
  gl::Buffer groups, slot_rows, slot_experts, slot_weights, token_ranges, choices;
  unsigned commands_at = 0;
  std::vector<unsigned> grouped_row_tiles;
  // route.comp's inputs per MoE layer (uploaded when they change: an upload to a buffer that
  // queued dispatches still use would wait for them) and its decisions (per token)
  struct RouteInputs {
    gl::Buffer bias, enabled;
    std::vector<float> bias_values;
    std::vector<uint32_t> enabled_values;
  };
  std::vector<RouteInputs> route_inputs;  // by layer
  gl::Buffer route_probs, route_experts, route_weights, route_groups;
  gl::Buffer trace;  // the forward call's trace (gl_trace.cpp), read back once at its end
};

// How one MoE layer was routed: on the GPU (the decisions stay in the route buffers) or on the
// CPU (the decisions and the logits they came from are here).
struct RoutedLayer {
  bool on_gpu = false;
  size_t top_k = 0;          // GPU: the experts of every token
  size_t n_groups_used = 0;  // GPU: group-limited routing's groups per token
  RecordedGate gate;         // GPU: the rule route.comp applied
  size_t n_slots = 0;        // (token, expert) pairs
  std::vector<RouteDecision> decisions;  // CPU
  std::vector<float> logits;             // CPU
};

// Where a traced MoE layer's records lie in the trace buffer (words from `at`): for a GPU-routed
// layer logits, probs (n x n_expert each), experts, weights (n x top_k each) and groups
// (n x n_groups_used), then for every layer the values of trace_values.comp, `stride` words per
// token.
struct TracedLayer {
  int layer = 0;
  unsigned n = 0;
  int pos0 = 0;
  bool has_shared = false;
  size_t n_expert = 0, n_embd = 0;
  size_t at = 0;
  size_t values_at = 0;
  size_t stride = 0;
  RoutedLayer routed;
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

// The gated activation that matmul.comp's gated mode applies to a [gate | up] matrix's products:
// act(gate + bias) * (up + bias'), the biases per expert (none: nullptr or size 0).
struct GatedOutput {
  ExpertActivation activation;
  const Vector* biases;
};

// The input rows of a matmul: n rows, or (grouped) the routed slots of the grouping, n of them,
// read from input row slot_rows[slot] when `gather`.
struct InputRows {
  unsigned n;
  bool grouped = false;
  bool gather = false;
};

// A block norm (RMSNorm without bias of `in` into `out`) left to the first plain matmul that
// reads `out`, which computes it in matmul.comp's normed-input mode and stores `out` too.
struct PendingNorm {
  const Buffer* in;
  const Vector* weight;
  float eps;
  Buffer* out;
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
  // in_stride: floats between input rows (0: the matrix's width). With `gated`, w is a
  // [gate | up] matrix and the output its gated activation (w.rows / 2 wide).
  void matmul(const gl::Matrix& w, const gl::Buffer& in, unsigned n, gl::Destination out,
              unsigned in_stride = 0, const gl::GatedOutput* gated = nullptr);
  // Grouped (workgroup z: the group), dispatched with the indirect sizes of the grouping.
  void matmul_grouped(const gl::Matrix& w, const gl::Buffer& in, bool gather,
                      gl::Destination out, const gl::GatedOutput* gated = nullptr);
  // Every part of a fused matrix into its columns of `out`.
  void matmul_fused(const gl::FusedMatrix& w, const gl::Buffer& in, unsigned n, gl::Buffer& out);
  // The gated FFN's hidden rows act(gate) * up of a [gate | up] matrix (n_ff wide, into
  // `hidden`), biases per expert: one gated matmul where gated_in_matmul, else the products
  // (in scratch.gate_up) and glu.
  void gated_hidden(const gl::FusedMatrix& gate_up, ExpertActivation activation,
                    const gl::Buffer& in, const gl::InputRows& rows, const gl::Vector* biases,
                    gl::Buffer& hidden);
  bool gated_in_matmul(const gl::FusedMatrix& gate_up) const;
  // The routed experts' down matrix and their mix into `out` in one dispatch
  // (matmul_combine.comp), for the layers where mix_in_matmul says so; scratch.expert_out gets
  // the products for the trace.
  void down_and_mix(const gl::Matrix& down, unsigned n, gl::Destination out);
  bool mix_in_matmul(const gl::LayerBuffers& layer, const gl::RoutedLayer& routed,
                     unsigned n) const;
  // Off: every step its own dispatch (GlBackend::set_kernel_fusion), to measure what fusing pays.
  bool fuse_kernels = true;
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
  // The norm before a block, of n rows of `in` into `out` (cols wide): left to the block's first
  // matmul of `out` where it can be fused (pending_norm), else norm(). The block must start
  // with a plain matmul of `out` (each does: the attention projections, the router, the dense
  // FFN).
  void block_norm(NormKind kind, const gl::Buffer& in, unsigned n, const gl::Vector& weight,
                  const gl::Vector& bias, unsigned cols, float eps, gl::Buffer& out);
  std::optional<gl::PendingNorm> pending_norm;
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
  // routed on the CPU; then the slots grouped by expert into the groups buffers (on the GPU,
  // or on the CPU and uploaded). Counts each layer's path in routing_counts.
  gl::RoutedLayer route(const Model& model, const gl::LayerBuffers& layer, int layer_index,
                        unsigned n, int pos0, const RoutingInterventions& interventions);
  bool route_on_gpu(const Model& model, int layer_index, unsigned n, int pos0,
                    const RoutingInterventions& interventions, gl::RoutedLayer& routed);
  // The indirect dispatch sizes' row-tile counts of the layer's grouped matrices.
  void plan_grouped_commands(const gl::LayerBuffers& layer, const ModelConfig& config);
  void group_on_gpu(const ModelConfig& config, unsigned n, const gl::RoutedLayer& routed);
  void group_on_host(const ModelConfig& config, unsigned n, gl::RoutedLayer& routed);
  GlBackend::RoutingCounts routing_counts;
  long dispatches_before = 0;  // gl::dispatch_count() when the backend was made
  void dense_ffn(const gl::FusedMatrix& gate_up, const gl::Matrix& down,
                 ExpertActivation activation, unsigned n, gl::Destination out);
  // A buffer read back to the host, counted in routing_counts.downloads.
  void download(const gl::Buffer& buffer, void* data, size_t bytes);

  // The trace (gl_trace.cpp): each traced MoE layer appends its decisions (GPU-routed) and its
  // values (trace_values.comp) to scratch.trace; read_trace reads it back once after the
  // forward call and records every layer's tokens in the RoutingTrace.
  std::vector<gl::TracedLayer> traced_layers;
  size_t trace_words = 0;
  void begin_trace();
  void trace_layer(const Model& model, const gl::LayerBuffers& layer, int layer_index,
                   unsigned n, int pos0, gl::RoutedLayer routed, bool has_shared);
  void read_trace(RoutingTrace& trace);
};

}  // namespace moe
