// The GL forward pass: the CPU backend's steps (core/backend/cpu_backend.cpp) as compute-shader
// dispatches over GPU buffers. Per layer: the attention block (gl_attention.cpp) and the FFN
// block (gl_moe.cpp), each added to the residual stream; then the final norm and the logits.
// Routing, grouping and the routing trace stay on the GPU: a forward call reads back its logits
// and, when traced, the trace buffer once; only a layer routed on the CPU (interventions that
// couple tokens or use the CPU's noise) reads its router logits back too.
#include "moe/gl_backend.hpp"

#include <algorithm>
#include <cstdlib>

#include "gl_forward.hpp"
#include "moe/error.hpp"
#include "moe/rope.hpp"

namespace moe {

using gl::floats;

namespace {

// One sequence: its KV cache on the GPU, one buffer per layer for keys and one for values,
// grown (and copied) as positions fill, like the CPU backend's.
class GlForwardState final : public ForwardState {
public:
  GlForwardState(const void* owner, std::shared_ptr<gl::Weights> weights, int n_ctx)
      : owner_(owner), weights_(std::move(weights)), n_ctx_(n_ctx) {
    const size_t n_layer = static_cast<size_t>(weights_->model().config().n_layer);
    // Each layer's RoPE (gpt-oss's windowed and llama4's chunked layers have their own base),
    // kept once per distinct one: a table is computed per distinct RoPE and forward call.
    for (size_t layer = 0; layer < n_layer; ++layer) {
      const RopeParams params = rope_params(weights_->model(), n_ctx, static_cast<int>(layer));
      const auto known = std::find(ropes_.begin(), ropes_.end(), params);
      rope_of_layer_.push_back(static_cast<size_t>(known - ropes_.begin()));
      if (known == ropes_.end()) ropes_.push_back(params);
    }
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
  const std::vector<RopeParams>& ropes() const { return ropes_; }
  size_t rope_of_layer(int layer) const { return rope_of_layer_[static_cast<size_t>(layer)]; }
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
    gl::copy(buffer, 0, bigger, 0, row_bytes * static_cast<size_t>(n_filled_));
    buffer = std::move(bigger);
  }

  const void* owner_;
  std::shared_ptr<gl::Weights> weights_;
  int n_ctx_;
  std::vector<RopeParams> ropes_;
  std::vector<size_t> rope_of_layer_;  // index in ropes_
  int n_filled_ = 0;
  int capacity_ = 0;
  std::vector<gl::Buffer> keys_, values_;
};

}  // namespace

GlBackend::GlBackend() : impl_(std::make_unique<Impl>()) {
  impl_->device = std::make_shared<gl::Device>();
  const char* unfused = std::getenv("MOESCOPE_GL_UNFUSED");  // set, and not "" or "0"
  impl_->fuse_kernels = unfused == nullptr || *unfused == '\0' || std::string(unfused) == "0";
  impl_->dispatches_before = gl::dispatch_count();
}

GlBackend::~GlBackend() {
  impl_->device->context->make_current();
  impl_->recent_weights.reset();
  impl_->scratch = gl::Scratch();
}

std::string GlBackend::name() const { return "gl"; }

std::string GlBackend::device_description() const { return impl_->device->description; }

GlBackend::RoutingCounts GlBackend::routing_counts() const {
  RoutingCounts counts = impl_->routing_counts;
  counts.dispatches = gl::dispatch_count() - impl_->dispatches_before;
  return counts;
}

void GlBackend::set_kernel_fusion(bool on) { impl_->fuse_kernels = on; }

void GlBackend::Impl::download(const gl::Buffer& buffer, void* data, size_t bytes) {
  ++routing_counts.downloads;
  buffer.download(data, bytes);
}

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
  gl::Scratch& s = impl.scratch;
  const gl::Weights& weights = gl_state->weights();
  const NormKind norm_kind = model.architecture().norm;
  const unsigned n = static_cast<unsigned>(n_tokens);
  const unsigned n_embd = static_cast<unsigned>(config.n_embd);
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
  // with (in double; linear, YaRN and LongRoPE scaling and frequency factors included), one
  // table per distinct RoPE of the layers.
  s.rope_tables.resize(std::max(s.rope_tables.size(), gl_state->ropes().size()));
  for (size_t r = 0; r < gl_state->ropes().size(); ++r) {
    const RopeParams& rope = gl_state->ropes()[r];
    const int half = rope.n_rot / 2;
    std::vector<float> table(static_cast<size_t>(n) * static_cast<size_t>(half) * 2);
    for (unsigned t = 0; t < n; ++t) {
      for (int i = 0; i < half; ++i) {
        const size_t at = (static_cast<size_t>(t) * half + i) * 2;
        rope.rotation(pos0 + static_cast<int>(t), i, table[at], table[at + 1]);
      }
    }
    s.rope_tables[r].reserve(floats(std::max<size_t>(table.size(), 2)));
    s.rope_tables[r].upload(table.data(), floats(table.size()));
  }
  const size_t qkv_width =
      static_cast<size_t>(config.n_head_kv * (config.head_dim + config.head_dim_v) +
                          config.n_head * config.head_dim);
  s.normed.reserve(floats(static_cast<size_t>(n) * n_embd));
  s.qkv.reserve(floats(n * qkv_width));
  s.attended.reserve(floats(static_cast<size_t>(n) * config.n_head * config.head_dim_v));

  impl.begin_trace();
  for (int il = 0; il < config.n_layer; ++il) {
    const gl::LayerBuffers& layer = weights.layer(il);
    impl.block_norm(norm_kind, s.x, n, layer.attn_norm, layer.attn_norm_bias, n_embd,
                    config.rms_eps, s.normed);
    impl.attention_block(model, layer, il, n, pos0,
                         {&gl_state->keys(il), &gl_state->values(il),
                          &s.rope_tables[gl_state->rope_of_layer(il)]});
    impl.ffn_block(model, layer, il, n, pos0, state.interventions(), trace);
  }

  // Logits: (output (norm(x)) + bias) / logit_scale, soft-capped where the model says so.
  const unsigned first_row = mode == LogitsMode::All ? 0 : n - 1;
  const unsigned n_rows = n - first_row;
  const unsigned n_vocab = static_cast<unsigned>(config.n_vocab);
  impl.norm(norm_kind, s.x, first_row, n_rows, weights.output_norm(), weights.output_norm_bias(),
            n_embd, config.rms_eps, {&s.normed, n_embd});
  s.logits.reserve(floats(static_cast<size_t>(n_rows) * n_vocab));
  const bool output_bias = weights.output_bias().size > 0;
  // Without a bias the logit multiplier is applied in the matmul (one pass less).
  impl.matmul(weights.output(), s.normed, n_rows,
              {&s.logits, n_vocab, 0, false, output_bias ? 1.0f : 1.0f / config.logit_scale});
  impl.add(s.logits, nullptr, &weights.output_bias(), n_rows * n_vocab, n_vocab);
  impl.scale(s.logits, n_rows * n_vocab, output_bias ? 1.0f / config.logit_scale : 1.0f,
             config.final_softcap);
  logits_out.resize(static_cast<size_t>(n_rows) * n_vocab);
  impl.download(s.logits, logits_out.data(), floats(logits_out.size()));
  if (trace != nullptr) impl.read_trace(*trace);
  gl_state->set_filled(pos0 + n_tokens);
}

}  // namespace moe
