// The GL forward pass: the CPU backend's steps (core/backend/cpu_backend.cpp) as compute-shader
// dispatches over GPU buffers. Per layer: RMSNorm, Q/K/V (+ biases), RoPE, the new keys/values
// copied into the KV cache, causal attention, output projection, residual; RMSNorm, dense SwiGLU
// or routed experts, residual. Only the router logits (every MoE layer) and the final logits
// come back to the CPU.
#include "moe/gl_backend.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>

#include "gl_device.hpp"
#include "gl_weights.hpp"
#include "moe/error.hpp"
#include "moe/rope.hpp"
#include "moe/router.hpp"

namespace moe {

namespace {

constexpr unsigned kMatmulRowsPerGroup = 4;  // matmul.comp's ROWS_PER_GROUP
constexpr unsigned kMatmulTile = 8;          // matmul.comp's TILE

unsigned ceil_div(size_t a, size_t b) { return static_cast<unsigned>((a + b - 1) / b); }

// One sequence: its KV cache on the GPU, one buffer per layer for keys and one for values,
// grown (and copied) as positions fill, like the CPU backend's.
class GlForwardState final : public ForwardState {
public:
  GlForwardState(const void* owner, std::shared_ptr<gl::Weights> weights, int n_ctx)
      : owner_(owner), weights_(std::move(weights)), n_ctx_(n_ctx),
        rope_(rope_params(weights_->model(), n_ctx)) {
    const size_t n_layer = static_cast<size_t>(weights_->model().config().n_layer);
    keys_.resize(n_layer);
    values_.resize(n_layer);
  }

  ~GlForwardState() override {
    weights_->device().context->make_current();  // the cache's buffers belong to that context
    keys_.clear();
    values_.clear();
  }

  const std::shared_ptr<const Model>& model() const override { return weights_->model_ptr(); }
  int n_ctx() const override { return n_ctx_; }
  int n_filled() const override { return n_filled_; }

  const void* owner() const { return owner_; }
  const gl::Weights& weights() const { return *weights_; }
  // Every layer's (the shaders have no per-layer RoPE base: windowed gpt-oss layers are refused).
  const RopeParams& rope() const { return rope_; }
  void set_filled(int n_filled) { n_filled_ = n_filled; }
  gl::Buffer& keys(int layer) { return keys_[static_cast<size_t>(layer)]; }
  gl::Buffer& values(int layer) { return values_[static_cast<size_t>(layer)]; }

  // Room for `positions` positions, keeping the first n_filled().
  void reserve(int positions) {
    if (positions <= capacity_) return;
    const int capacity = std::min(n_ctx_, std::max({positions, 2 * capacity_, 64}));
    const ModelConfig& config = weights_->model().config();
    const size_t key_row = sizeof(float) * static_cast<size_t>(config.n_head_kv * config.head_dim);
    const size_t value_row =
        sizeof(float) * static_cast<size_t>(config.n_head_kv * config.head_dim_v);
    for (size_t layer = 0; layer < keys_.size(); ++layer) {
      grow(keys_[layer], key_row * static_cast<size_t>(capacity), key_row);
      grow(values_[layer], value_row * static_cast<size_t>(capacity), value_row);
    }
    capacity_ = capacity;
  }

private:
  void grow(gl::Buffer& buffer, size_t bytes, size_t row_bytes) {
    gl::Buffer bigger(nullptr, bytes);
    const size_t keep = row_bytes * static_cast<size_t>(n_filled_);
    if (keep > 0) {
      glBindBuffer(GL_COPY_READ_BUFFER, buffer.id());
      glBindBuffer(GL_COPY_WRITE_BUFFER, bigger.id());
      glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, 0, 0,
                          static_cast<GLsizeiptr>(keep));
    }
    buffer = std::move(bigger);
  }

  const void* owner_;
  std::shared_ptr<gl::Weights> weights_;
  int n_ctx_;
  RopeParams rope_;
  int n_filled_ = 0;
  int capacity_ = 0;
  std::vector<gl::Buffer> keys_, values_;
};

// Activations of one forward call, reused between calls (grown as needed).
struct Scratch {
  gl::Buffer x, normed, qkv, attended, gate_up, hidden, expert_out, shared_out, router_logits,
      logits;
  gl::Buffer rope_table, groups, slot_rows, token_ranges, choices;
};

// Where a matmul writes: columns [col, col + rows) of rows `stride` floats apart, added to the
// values there when `accumulate` is set.
struct Destination {
  gl::Buffer* buffer;
  unsigned stride;
  unsigned col = 0;
  bool accumulate = false;
  float alpha = 1;  // W x scaled by this before it is stored or added
};

size_t floats(size_t n) { return n * sizeof(float); }

}  // namespace

struct GlBackend::Impl {
  std::shared_ptr<gl::Device> device;
  std::shared_ptr<gl::Weights> recent_weights;  // the last model's, kept for the next state
  Scratch scratch;

  // Output buffers are reserved by the caller (reserving may discard contents).
  void matmul(const gl::Matrix& w, const gl::Buffer& in, unsigned n, Destination out);
  void matmul_grouped(const gl::Matrix& w, const gl::Buffer& in, bool gather, unsigned n_groups,
                      unsigned max_slots, Destination out);
  // Every part of a fused matrix into its columns of `out` (plain or grouped).
  void matmul_fused(const gl::FusedMatrix& w, const gl::Buffer& in, unsigned n, gl::Buffer& out);
  void matmul_fused_grouped(const gl::FusedMatrix& w, const gl::Buffer& in, unsigned n_groups,
                            unsigned max_slots, gl::Buffer& out);
  void add(gl::Buffer& target, const gl::Buffer* addend, const gl::Vector* bias, unsigned n,
           unsigned cols);
  void rms_norm(const gl::Buffer& in, unsigned first_row, unsigned n, const gl::Vector& weight,
                unsigned cols, float eps, gl::Buffer& out);
  void group_norm(gl::Buffer& rows, unsigned n, unsigned row_stride, unsigned first_col,
                  unsigned n_groups, const gl::Vector& weight, float eps);
  void rope(gl::Buffer& rows, unsigned n, unsigned n_heads, unsigned row_stride,
            const ModelConfig& config, RopePairing pairing);
  void swiglu(const gl::Buffer& gate_up, unsigned n_rows, unsigned width, gl::Buffer& out);
  void moe_ffn(const Model& model, const gl::LayerBuffers& layer, int layer_index, unsigned n,
               int pos0, const RoutingInterventions& interventions, RoutingTrace* trace);
  // The trace's records of a MoE layer with its values in norms, as the CPU backend records
  // them: the FFN input, each chosen expert's output and the shared experts' output read back.
  void record_layer(const Model& model, int layer_index, unsigned n, int pos0,
                    const std::vector<float>& logits, std::vector<RouteDecision> decisions,
                    const std::vector<std::vector<uint32_t>>& slot_of_rank, size_t n_slots,
                    bool has_shared, RoutingTrace& trace);
};

void GlBackend::Impl::matmul(const gl::Matrix& w, const gl::Buffer& in, unsigned n,
                             Destination out) {
  gl::Program& program = *device->matmul.at(w.type);
  program.use();
  program.set("u_rows", w.rows);
  program.set("u_cols", w.cols);
  program.set("u_row_bytes", w.row_bytes);
  program.set("u_matrix_bytes", w.matrix_bytes);
  program.set("u_n_slots", n);
  program.set("u_in_stride", w.cols);
  program.set("u_out_stride", out.stride);
  program.set("u_out_col", out.col);
  program.set("u_accumulate", out.accumulate ? 1u : 0u);
  program.set("u_alpha", out.alpha);
  program.set("u_grouped", 0u);
  program.set("u_gather", 0u);
  gl::bind(0, w.buffer);
  gl::bind(1, in);
  gl::bind(2, *out.buffer);
  gl::bind(3, device->dummy);
  gl::bind(4, device->dummy);
  gl::dispatch(ceil_div(w.rows, kMatmulRowsPerGroup), ceil_div(n, kMatmulTile));
}

void GlBackend::Impl::matmul_grouped(const gl::Matrix& w, const gl::Buffer& in, bool gather,
                                     unsigned n_groups, unsigned max_slots, Destination out) {
  gl::Program& program = *device->matmul.at(w.type);
  program.use();
  program.set("u_rows", w.rows);
  program.set("u_cols", w.cols);
  program.set("u_row_bytes", w.row_bytes);
  program.set("u_matrix_bytes", w.matrix_bytes);
  program.set("u_n_slots", 0u);
  program.set("u_in_stride", w.cols);
  program.set("u_out_stride", out.stride);
  program.set("u_out_col", out.col);
  program.set("u_accumulate", out.accumulate ? 1u : 0u);
  program.set("u_alpha", out.alpha);
  program.set("u_grouped", 1u);
  program.set("u_gather", gather ? 1u : 0u);
  gl::bind(0, w.buffer);
  gl::bind(1, in);
  gl::bind(2, *out.buffer);
  gl::bind(3, scratch.groups);
  gl::bind(4, scratch.slot_rows);
  gl::dispatch(ceil_div(w.rows, kMatmulRowsPerGroup), ceil_div(max_slots, kMatmulTile), n_groups);
}

void GlBackend::Impl::matmul_fused(const gl::FusedMatrix& w, const gl::Buffer& in, unsigned n,
                                   gl::Buffer& out) {
  unsigned col = 0;
  for (const gl::Matrix& part : w.parts) {
    matmul(part, in, n, {&out, w.rows, col});
    col += part.rows;
  }
}

void GlBackend::Impl::matmul_fused_grouped(const gl::FusedMatrix& w, const gl::Buffer& in,
                                           unsigned n_groups, unsigned max_slots, gl::Buffer& out) {
  unsigned col = 0;
  for (const gl::Matrix& part : w.parts) {
    matmul_grouped(part, in, true, n_groups, max_slots, {&out, w.rows, col});
    col += part.rows;
  }
}

void GlBackend::Impl::add(gl::Buffer& target, const gl::Buffer* addend, const gl::Vector* bias,
                          unsigned n, unsigned cols) {
  const bool has_bias = bias != nullptr && bias->size > 0;
  if (addend == nullptr && !has_bias) return;
  gl::Program& program = *device->add;
  program.use();
  program.set("u_n", n);
  program.set("u_cols", cols);
  program.set("u_has_addend", addend != nullptr ? 1u : 0u);
  program.set("u_has_bias", has_bias ? 1u : 0u);
  gl::bind(0, target);
  gl::bind(1, addend != nullptr ? *addend : device->dummy);
  gl::bind(2, has_bias ? bias->buffer : device->dummy);
  gl::dispatch(ceil_div(n, 256));
}

void GlBackend::Impl::rms_norm(const gl::Buffer& in, unsigned first_row, unsigned n,
                               const gl::Vector& weight, unsigned cols, float eps,
                               gl::Buffer& out) {
  gl::Program& program = *device->rms_norm;
  program.use();
  program.set("u_cols", cols);
  program.set("u_first_row", first_row);
  program.set("u_eps", eps);
  out.reserve(floats(static_cast<size_t>(n) * cols));
  gl::bind(0, in);
  gl::bind(1, weight.buffer);
  gl::bind(2, out);
  gl::dispatch(n);
}

void GlBackend::Impl::group_norm(gl::Buffer& rows, unsigned n, unsigned row_stride,
                                 unsigned first_col, unsigned n_groups, const gl::Vector& weight,
                                 float eps) {
  gl::Program& program = *device->group_norm;
  program.use();
  program.set("u_row_stride", row_stride);
  program.set("u_first_col", first_col);
  program.set("u_width", weight.size);
  program.set("u_eps", eps);
  gl::bind(0, rows);
  gl::bind(1, weight.buffer);
  gl::dispatch(n_groups, n);
}

void GlBackend::Impl::rope(gl::Buffer& rows, unsigned n, unsigned n_heads, unsigned row_stride,
                           const ModelConfig& config, RopePairing pairing) {
  gl::Program& program = *device->rope;
  program.use();
  program.set("u_n_heads", n_heads);
  program.set("u_head_dim", static_cast<unsigned>(config.head_dim));
  program.set("u_n_rot", static_cast<unsigned>(config.n_rot));
  program.set("u_row_stride", row_stride);
  program.set("u_split_halves", pairing == RopePairing::SplitHalves ? 1u : 0u);
  gl::bind(0, rows);
  gl::bind(1, scratch.rope_table);
  gl::dispatch(ceil_div(static_cast<unsigned>(config.n_rot / 2), 64), n_heads, n);
}

void GlBackend::Impl::swiglu(const gl::Buffer& gate_up, unsigned n_rows, unsigned width,
                             gl::Buffer& out) {
  gl::Program& program = *device->swiglu;
  program.use();
  program.set("u_n", n_rows * width);
  program.set("u_width", width);
  gl::bind(0, gate_up);
  gl::bind(1, out);
  gl::dispatch(ceil_div(static_cast<size_t>(n_rows) * width, 256));
}

// Router logits come back to the CPU, which routes every token with the shared router code;
// then each chosen expert runs once over the tokens that chose it (one dispatch per matrix for
// all experts: workgroup z is the expert), and the outputs are mixed by gate weight.
void GlBackend::Impl::moe_ffn(const Model& model, const gl::LayerBuffers& layer, int layer_index,
                              unsigned n, int pos0, const RoutingInterventions& interventions,
                              RoutingTrace* trace) {
  const ModelConfig& config = model.config();
  const unsigned n_expert = static_cast<unsigned>(config.n_expert);
  Scratch& s = scratch;
  s.router_logits.reserve(floats(static_cast<size_t>(n) * n_expert));
  matmul(layer.router, s.normed, n, {&s.router_logits, n_expert});
  std::vector<float> logits(static_cast<size_t>(n) * n_expert);
  auto step_start = std::chrono::steady_clock::now();
  const auto end_step = [&](const char* name) {
    if (!gl::profiling()) return;
    const auto now = std::chrono::steady_clock::now();
    gl::profile_host_step(name, std::chrono::duration<double>(now - step_start).count());
    step_start = now;
  };
  s.router_logits.download(logits.data(), floats(logits.size()));
  end_step("(host) router readback");

  struct Choice {
    unsigned token;
    size_t rank;  // in the token's chosen experts
  };
  std::vector<std::vector<Choice>> tokens_of_expert(n_expert);
  std::vector<RouteDecision> decisions;
  route_layer(model, layer_index, logits.data(), static_cast<int>(n), pos0, interventions,
              decisions);
  for (unsigned t = 0; t < n; ++t) {
    const RouteDecision& decision = decisions[t];
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      tokens_of_expert[static_cast<size_t>(decision.experts[j])].push_back(
          {t, j});
    }
  }

  // Slots: (expert, token) pairs grouped by expert in id order.
  std::vector<uint32_t> groups, slot_rows;
  std::vector<std::vector<uint32_t>> slot_of_rank(n);  // per token, the slot of each choice
  unsigned max_slots = 0;
  for (unsigned e = 0; e < n_expert; ++e) {
    const auto& chosen = tokens_of_expert[e];
    if (chosen.empty()) continue;
    groups.insert(groups.end(), {e, static_cast<uint32_t>(slot_rows.size()),
                                 static_cast<uint32_t>(chosen.size())});
    max_slots = std::max(max_slots, static_cast<unsigned>(chosen.size()));
    for (const Choice& choice : chosen) {
      std::vector<uint32_t>& ranks = slot_of_rank[choice.token];
      if (ranks.size() <= choice.rank) ranks.resize(choice.rank + 1);
      ranks[choice.rank] = static_cast<uint32_t>(slot_rows.size());
      slot_rows.push_back(choice.token);
    }
  }
  // Per token, its slots in rank order, so the mix adds the experts in the CPU backend's order.
  std::vector<uint32_t> token_ranges, choices;
  for (unsigned t = 0; t < n; ++t) {
    token_ranges.push_back(static_cast<uint32_t>(choices.size() / 2));
    token_ranges.push_back(static_cast<uint32_t>(slot_of_rank[t].size()));
    for (size_t rank = 0; rank < slot_of_rank[t].size(); ++rank) {
      choices.push_back(slot_of_rank[t][rank]);
      choices.push_back(std::bit_cast<uint32_t>(decisions[t].weights[rank]));
    }
  }
  const size_t n_slots = slot_rows.size();
  const unsigned n_groups = static_cast<unsigned>(groups.size() / 3);
  const auto upload = [](gl::Buffer& buffer, const std::vector<uint32_t>& values) {
    buffer.reserve(std::max<size_t>(values.size(), 1) * sizeof(uint32_t));
    buffer.upload(values.data(), values.size() * sizeof(uint32_t));
  };
  upload(s.groups, groups);
  upload(s.slot_rows, slot_rows);
  upload(s.token_ranges, token_ranges);
  upload(s.choices, choices);
  end_step("(host) routing + uploads");

  const unsigned n_ff = layer.down.cols;
  const size_t slots = std::max<size_t>(n_slots, 1);
  s.gate_up.reserve(floats(slots * 2 * n_ff));
  s.hidden.reserve(floats(slots * n_ff));
  s.expert_out.reserve(floats(slots * config.n_embd));
  if (n_groups > 0) {
    matmul_fused_grouped(layer.gate_up, s.normed, n_groups, max_slots, s.gate_up);
    swiglu(s.gate_up, static_cast<unsigned>(n_slots), n_ff, s.hidden);
    matmul_grouped(layer.down, s.hidden, false, n_groups, max_slots,
                   {&s.expert_out, static_cast<unsigned>(config.n_embd)});
  }
  // The shared experts run on every token (the routed experts' scratch is free again).
  const bool has_shared = !layer.shared_gate_up.parts.empty();
  if (has_shared) {
    const unsigned n_ff_shared = layer.shared_down.cols;
    s.gate_up.reserve(floats(static_cast<size_t>(n) * 2 * n_ff_shared));
    s.hidden.reserve(floats(static_cast<size_t>(n) * n_ff_shared));
    s.shared_out.reserve(floats(static_cast<size_t>(n) * config.n_embd));
    matmul_fused(layer.shared_gate_up, s.normed, n, s.gate_up);
    swiglu(s.gate_up, n, n_ff_shared, s.hidden);
    matmul(layer.shared_down, s.hidden, n, {&s.shared_out, static_cast<unsigned>(config.n_embd)});
  }
  if (trace != nullptr) {
    record_layer(model, layer_index, n, pos0, logits, std::move(decisions), slot_of_rank,
                 n_slots, has_shared, *trace);
  }
  gl::Program& combine = *device->moe_combine;
  combine.use();
  combine.set("u_cols", static_cast<unsigned>(config.n_embd));
  combine.set("u_n_tokens", n);
  combine.set("u_alpha", config.residual_scale);
  gl::bind(0, s.x);  // the mix is added to the residual stream
  gl::bind(1, s.expert_out);
  gl::bind(2, s.token_ranges);
  gl::bind(3, s.choices);
  gl::dispatch(ceil_div(static_cast<unsigned>(config.n_embd), 256), n);
  if (has_shared) {
    gl::Program& add_shared = *device->shared_add;
    add_shared.use();
    add_shared.set("u_cols", static_cast<unsigned>(config.n_embd));
    add_shared.set("u_gated", layer.shared_gate.size > 0 ? 1u : 0u);
    add_shared.set("u_alpha", config.residual_scale);
    gl::bind(0, s.x);
    gl::bind(1, s.shared_out);
    gl::bind(2, s.normed);
    gl::bind(3, layer.shared_gate.size > 0 ? layer.shared_gate.buffer : device->dummy);
    gl::dispatch(n);
  }
}

void GlBackend::Impl::record_layer(const Model& model, int layer_index, unsigned n, int pos0,
                                   const std::vector<float>& logits,
                                   std::vector<RouteDecision> decisions,
                                   const std::vector<std::vector<uint32_t>>& slot_of_rank,
                                   size_t n_slots, bool has_shared, RoutingTrace& trace) {
  const ModelConfig& config = model.config();
  const auto n_embd = static_cast<size_t>(config.n_embd);
  const auto n_expert = static_cast<size_t>(config.n_expert);
  std::vector<float> input(n * n_embd), expert_out(n_slots * n_embd), shared;
  scratch.normed.download(input.data(), floats(input.size()));
  if (n_slots > 0) scratch.expert_out.download(expert_out.data(), floats(expert_out.size()));
  std::vector<float> shared_gate;  // qwen2moe's gate vector, for the shared output's weight
  if (has_shared) {
    shared.resize(n * n_embd);
    scratch.shared_out.download(shared.data(), floats(shared.size()));
    const gguf::TensorInfo* gate = model.layer(layer_index).ffn_gate_inp_shexp;
    if (config.shared_experts == SharedExperts::SigmoidGated && gate != nullptr) {
      shared_gate.resize(n_embd);
      dequantize_row(gate->type, gate->data, shared_gate.data(), static_cast<int64_t>(n_embd));
    }
  }
  const auto norm = [](const float* v, size_t size) {
    double sum = 0;
    for (size_t i = 0; i < size; ++i) sum += static_cast<double>(v[i]) * v[i];
    return static_cast<float>(std::sqrt(sum));
  };
  for (unsigned t = 0; t < n; ++t) {
    RouteDecision& decision = decisions[t];
    LayerValues values;
    values.available = true;
    const float* x = input.data() + t * n_embd;
    values.input_norm = norm(x, n_embd);
    values.input_head.assign(x, x + std::min<size_t>(LayerValues::kInputHead, n_embd));
    // The mix in rank order, as the combine shader and the CPU backend add it.
    std::vector<float> routed(n_embd, 0.0f);
    values.expert_norms.assign(decision.experts.size(), 0.0f);
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      const float* row = expert_out.data() + slot_of_rank[t][j] * n_embd;
      values.expert_norms[j] = norm(row, n_embd);
      for (size_t i = 0; i < n_embd; ++i) routed[i] += decision.weights[j] * row[i];
    }
    values.routed_norm = values.output_norm = norm(routed.data(), n_embd);
    if (has_shared) {  // as the CPU backend records it: |g * shared| and |routed + g * shared|
      float* row = shared.data() + t * n_embd;
      if (!shared_gate.empty()) {
        float logit = 0;
        for (size_t i = 0; i < n_embd; ++i) logit += x[i] * shared_gate[i];
        const float g = 1.0f / (1.0f + std::exp(-logit));
        for (size_t i = 0; i < n_embd; ++i) row[i] *= g;
      }
      values.has_shared = true;
      values.shared_norm = norm(row, n_embd);
      for (size_t i = 0; i < n_embd; ++i) routed[i] += row[i];
      values.output_norm = norm(routed.data(), n_embd);
    }
    const std::span<const float> row(logits.data() + t * n_expert, n_expert);
    RoutingRecord record = routing_record(row, std::move(decision));
    record.values = std::move(values);
    trace.set(pos0 + static_cast<int>(t), layer_index, std::move(record));
  }
}

GlBackend::GlBackend() : impl_(std::make_unique<Impl>()) {
  impl_->device = std::make_shared<gl::Device>();
}

GlBackend::~GlBackend() {
  impl_->device->context->make_current();
  impl_->recent_weights.reset();
  impl_->scratch = Scratch();
}

std::string GlBackend::name() const { return "gl"; }

std::string GlBackend::device_description() const { return impl_->device->description; }

std::unique_ptr<ForwardState> GlBackend::new_state(std::shared_ptr<const Model> model, int n_ctx) {
  if (model == nullptr) throw Error("new_state: no model");
  if (n_ctx < 1)
    throw Error("new_state: context size must be at least 1, got " + std::to_string(n_ctx));
  std::lock_guard lock(forward_mutex_);
  impl_->device->context->make_current();
  if (impl_->recent_weights == nullptr || impl_->recent_weights->model_ptr() != model) {
    impl_->recent_weights.reset();  // free the old model's buffers before uploading the new one
    impl_->recent_weights = std::make_shared<gl::Weights>(impl_->device, model);
  }
  return std::make_unique<GlForwardState>(this, impl_->recent_weights, n_ctx);
}

void GlBackend::forward(ForwardState& state, std::span<const int32_t> tokens, int pos0,
                        LogitsMode mode, std::vector<float>& logits_out, RoutingTrace* trace) {
  auto* gl_state = dynamic_cast<GlForwardState*>(&state);
  if (gl_state == nullptr || gl_state->owner() != this) {
    throw Error("forward: the state was not created by this GL backend");
  }
  const Model& model = *gl_state->model();
  const ModelConfig& config = model.config();
  const int n_tokens = static_cast<int>(tokens.size());
  if (n_tokens == 0) throw Error("forward: no tokens to compute");
  if (pos0 < 0 || pos0 > gl_state->n_filled()) {
    throw Error("forward: start position " + std::to_string(pos0) + " is not within the " +
                std::to_string(gl_state->n_filled()) + " computed positions");
  }
  if (static_cast<int64_t>(pos0) + n_tokens > gl_state->n_ctx()) {
    throw Error("context overflow: " + std::to_string(static_cast<int64_t>(pos0) + n_tokens) +
                " positions needed, the context holds " + std::to_string(gl_state->n_ctx()));
  }
  for (int t = 0; t < n_tokens; ++t) {
    const int32_t id = tokens[static_cast<size_t>(t)];
    if (id < 0 || id >= config.n_vocab) {
      throw Error("token id " + std::to_string(id) + " at index " + std::to_string(t) +
                  " is outside the vocabulary (" + std::to_string(config.n_vocab) + " tokens)");
    }
  }

  std::lock_guard lock(forward_mutex_);
  Impl& impl = *impl_;
  impl.device->context->make_current();
  Scratch& s = impl.scratch;
  const gl::Weights& weights = gl_state->weights();
  const Architecture& arch = model.architecture();
  const unsigned n = static_cast<unsigned>(n_tokens);
  const unsigned n_embd = static_cast<unsigned>(config.n_embd);
  const unsigned q_width = static_cast<unsigned>(config.n_head * config.head_dim);
  const unsigned k_width = static_cast<unsigned>(config.n_head_kv * config.head_dim);
  const unsigned v_width = static_cast<unsigned>(config.n_head_kv * config.head_dim_v);
  const unsigned attended_width = static_cast<unsigned>(config.n_head * config.head_dim_v);
  gl_state->set_filled(pos0);  // positions from pos0 on are being replaced
  gl_state->reserve(pos0 + n_tokens);

  // Embeddings: the rows are looked up on the CPU (in the mapped file) and uploaded.
  {
    std::vector<float> x(static_cast<size_t>(n) * n_embd);
    const gguf::TensorInfo& embd = model.token_embd();
    const auto layout = type_layout(static_cast<uint32_t>(embd.type));
    const size_t row_bytes = n_embd / layout->block_size * layout->block_bytes;
    for (unsigned t = 0; t < n; ++t) {
      dequantize_row(embd.type, embd.data + row_bytes * static_cast<size_t>(tokens[t]),
                     x.data() + static_cast<size_t>(t) * n_embd, n_embd);
    }
    if (config.embedding_scale != 1) {
      for (float& value : x) value *= config.embedding_scale;
    }
    s.x.reserve(floats(x.size()));
    s.x.upload(x.data(), floats(x.size()));
  }
  // RoPE cos/sin for positions pos0 .. pos0 + n - 1 from the RopeParams the CPU backend rotates
  // with (in double; linear, YaRN and LongRoPE scaling and frequency factors included).
  {
    const RopeParams& rope = gl_state->rope();
    const int half = rope.n_rot / 2;
    std::vector<float> table(static_cast<size_t>(n) * static_cast<size_t>(half) * 2);
    for (unsigned t = 0; t < n; ++t) {
      for (int i = 0; i < half; ++i) {
        const size_t at = (static_cast<size_t>(t) * half + i) * 2;
        rope.rotation(pos0 + static_cast<int>(t), i, table[at], table[at + 1]);
      }
    }
    s.rope_table.reserve(floats(std::max<size_t>(table.size(), 2)));
    s.rope_table.upload(table.data(), floats(table.size()));
  }
  const unsigned qkv_width = q_width + k_width + v_width;
  s.normed.reserve(floats(static_cast<size_t>(n) * n_embd));
  s.qkv.reserve(floats(static_cast<size_t>(n) * qkv_width));
  s.attended.reserve(floats(static_cast<size_t>(n) * attended_width));

  for (int il = 0; il < config.n_layer; ++il) {
    const gl::LayerBuffers& layer = weights.layer(il);
    impl.rms_norm(s.x, 0, n, layer.attn_norm, n_embd, config.rms_eps, s.normed);
    impl.matmul_fused(layer.attn_qkv, s.normed, n, s.qkv);
    impl.add(s.qkv, nullptr, &layer.qkv_bias, n * qkv_width, qkv_width);
    // q/k norms before RoPE, each over groups of its weight's size: the projection or one head.
    if (layer.q_norm.size > 0) {
      impl.group_norm(s.qkv, n, qkv_width, 0, q_width / layer.q_norm.size, layer.q_norm,
                      config.rms_eps);
      impl.group_norm(s.qkv, n, qkv_width, q_width, k_width / layer.k_norm.size, layer.k_norm,
                      config.rms_eps);
    }
    // q and k heads are adjacent in each [q | k | v] row: one pass rotates both.
    impl.rope(s.qkv, n, static_cast<unsigned>(config.n_head + config.n_head_kv), qkv_width, config,
              arch.rope);

    gl::Program& store = *impl.device->kv_store;
    store.use();
    store.set("u_qkv_stride", qkv_width);
    store.set("u_q_width", q_width);
    store.set("u_k_width", k_width);
    store.set("u_v_width", v_width);
    store.set("u_pos0", static_cast<unsigned>(pos0));
    gl::bind(0, s.qkv);
    gl::bind(1, gl_state->keys(il));
    gl::bind(2, gl_state->values(il));
    gl::dispatch(ceil_div(std::max(k_width, v_width), 256), n);

    gl::Program& attention = *impl.device->attention;
    attention.use();
    attention.set("u_head_dim", static_cast<unsigned>(config.head_dim));
    attention.set("u_head_dim_v", static_cast<unsigned>(config.head_dim_v));
    attention.set("u_heads_per_kv", static_cast<unsigned>(config.n_head / config.n_head_kv));
    attention.set("u_q_stride", qkv_width);
    attention.set("u_k_stride", k_width);
    attention.set("u_v_stride", v_width);
    attention.set("u_out_stride", attended_width);
    attention.set("u_pos0", static_cast<unsigned>(pos0));
    attention.set("u_scale", config.kq_scale > 0
                                 ? config.kq_scale
                                 : 1.0f / std::sqrt(static_cast<float>(config.head_dim)));
    gl::bind(0, s.qkv);
    gl::bind(1, gl_state->keys(il));
    gl::bind(2, gl_state->values(il));
    gl::bind(3, s.attended);
    gl::dispatch(static_cast<unsigned>(config.n_head), n);

    // Output projection added straight into the residual stream, then its bias.
    impl.matmul(layer.attn_output, s.attended, n, {&s.x, n_embd, 0, true, config.residual_scale});
    impl.add(s.x, nullptr, &layer.attn_output_bias, n * n_embd, n_embd);

    impl.rms_norm(s.x, 0, n, layer.ffn_norm, n_embd, config.rms_eps, s.normed);
    if (config.layer_is_moe[static_cast<size_t>(il)]) {
      impl.moe_ffn(model, layer, il, n, pos0, state.interventions(), trace);
    } else {
      const unsigned n_ff = layer.down.cols;
      s.gate_up.reserve(floats(static_cast<size_t>(n) * 2 * n_ff));
      s.hidden.reserve(floats(static_cast<size_t>(n) * n_ff));
      impl.matmul_fused(layer.gate_up, s.normed, n, s.gate_up);
      impl.swiglu(s.gate_up, n, n_ff, s.hidden);
      impl.matmul(layer.down, s.hidden, n, {&s.x, n_embd, 0, true, config.residual_scale});
    }
  }

  const unsigned first_row = mode == LogitsMode::All ? 0 : n - 1;
  const unsigned n_rows = n - first_row;
  impl.rms_norm(s.x, first_row, n_rows, weights.output_norm(), n_embd, config.rms_eps, s.normed);
  s.logits.reserve(floats(static_cast<size_t>(n_rows) * config.n_vocab));
  impl.matmul(weights.output(), s.normed, n_rows,
              {&s.logits, static_cast<unsigned>(config.n_vocab), 0, false, 1.0f / config.logit_scale});
  logits_out.resize(static_cast<size_t>(n_rows) * static_cast<size_t>(config.n_vocab));
  s.logits.download(logits_out.data(), floats(logits_out.size()));
  gl_state->set_filled(pos0 + n_tokens);
}

}  // namespace moe
