// The CPU forward pass: embedding, then per layer pre-norm attention and pre-norm FFN (dense or
// routed experts) with residuals, final norm and output logits. All tokens of a call go through
// each layer together, so every weight is read once per call.
#include "moe/cpu_backend.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "cpu_kernels.hpp"
#include "moe/error.hpp"

namespace moe {

namespace {

// One sequence's KV cache: per layer, one row per position. Grows as positions fill, so a
// large n_ctx costs memory only once it is used.
class CpuForwardState final : public ForwardState {
public:
  CpuForwardState(const void* owner, std::shared_ptr<const Model> model, int n_ctx)
      : owner_(owner), model_(std::move(model)), n_ctx_(n_ctx) {
    const ModelConfig& config = model_->config();
    for (int layer = 0; layer < config.n_layer; ++layer)
      rope_.push_back(rope_params(*model_, n_ctx, layer));
    keys_.resize(static_cast<size_t>(config.n_layer));
    values_.resize(static_cast<size_t>(config.n_layer));
  }

  const std::shared_ptr<const Model>& model() const override { return model_; }
  int n_ctx() const override { return n_ctx_; }
  int n_filled() const override { return n_filled_; }

  const void* owner() const { return owner_; }
  const RopeParams& rope(int layer) const { return rope_[static_cast<size_t>(layer)]; }
  void set_filled(int n_filled) { n_filled_ = n_filled; }
  cpu::RowMatrix& keys(int layer) { return keys_[static_cast<size_t>(layer)]; }
  cpu::RowMatrix& values(int layer) { return values_[static_cast<size_t>(layer)]; }

  void reserve(int positions) {
    if (positions <= capacity_) return;
    const int capacity = std::min(n_ctx_, std::max({positions, 2 * capacity_, 64}));
    const ModelConfig& config = model_->config();
    for (size_t layer = 0; layer < keys_.size(); ++layer) {
      keys_[layer].conservativeResize(capacity, config.n_head_kv * config.head_dim);
      values_[layer].conservativeResize(capacity, config.n_head_kv * config.head_dim_v);
    }
    capacity_ = capacity;
  }

private:
  const void* owner_;
  std::shared_ptr<const Model> model_;
  int n_ctx_;
  // Per layer, fixed per sequence: LongRoPE's factors depend on the context size, gpt-oss's
  // windowed layers have their own base.
  std::vector<RopeParams> rope_;
  int n_filled_ = 0;
  int capacity_ = 0;
  std::vector<cpu::RowMatrix> keys_, values_;
};

int default_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

CpuBackend::CpuBackend(CpuBackendOptions options)
    : quantized_activations_(options.quantized_activations),
      kernels_(std::make_unique<cpu::Kernels>(default_threads(options.n_threads),
                                              options.quantized_activations)) {}

CpuBackend::~CpuBackend() = default;

std::string CpuBackend::name() const { return "cpu"; }

int CpuBackend::n_threads() const { return kernels_->n_threads(); }

std::unique_ptr<ForwardState> CpuBackend::new_state(std::shared_ptr<const Model> model, int n_ctx) {
  if (model == nullptr) throw Error("new_state: no model");
  if (n_ctx < 1)
    throw Error("new_state: context size must be at least 1, got " + std::to_string(n_ctx));
  return std::make_unique<CpuForwardState>(this, std::move(model), n_ctx);
}

void CpuBackend::forward(ForwardState& state, std::span<const int32_t> tokens, int pos0,
                         LogitsMode mode, std::vector<float>& logits_out, RoutingTrace* trace) {
  auto* cpu_state = dynamic_cast<CpuForwardState*>(&state);
  if (cpu_state == nullptr || cpu_state->owner() != this) {
    throw Error("forward: the state was not created by this CPU backend");
  }
  const Model& model = *cpu_state->model();
  const ModelConfig& config = model.config();
  const int n = static_cast<int>(tokens.size());
  if (n == 0) throw Error("forward: no tokens to compute");
  if (pos0 < 0 || pos0 > cpu_state->n_filled()) {
    throw Error("forward: start position " + std::to_string(pos0) + " is not within the " +
                std::to_string(cpu_state->n_filled()) + " computed positions");
  }
  if (static_cast<int64_t>(pos0) + n > cpu_state->n_ctx()) {
    throw Error("context overflow: " + std::to_string(static_cast<int64_t>(pos0) + n) +
                " positions needed, the context holds " + std::to_string(cpu_state->n_ctx()));
  }
  for (int t = 0; t < n; ++t) {
    if (tokens[static_cast<size_t>(t)] < 0 || tokens[static_cast<size_t>(t)] >= config.n_vocab) {
      throw Error("token id " + std::to_string(tokens[static_cast<size_t>(t)]) + " at index " +
                  std::to_string(t) + " is outside the vocabulary (" +
                  std::to_string(config.n_vocab) + " tokens)");
    }
  }

  std::lock_guard lock(forward_mutex_);
  cpu::Kernels& kernels = *kernels_;
  // Positions from pos0 on are being replaced; if anything throws below they stay forgotten.
  cpu_state->set_filled(pos0);
  cpu_state->reserve(pos0 + n);

  cpu::RowMatrix x(n, config.n_embd);
  const cpu::WeightMatrix embeddings = cpu::WeightMatrix::of(model.token_embd());
  for (int t = 0; t < n; ++t)
    embeddings.rows_to_f32(tokens[static_cast<size_t>(t)], 1, x.row(t).data());

  cpu::RowMatrix normed, projected;
  std::vector<float> storage, bias_storage;
  // A 1-D tensor as f32, or nothing for a tensor the model does not have.
  const auto optional_vector = [](const gguf::TensorInfo* tensor, std::vector<float>& into) {
    return tensor == nullptr ? std::span<const float>() : cpu::vector_f32(*tensor, into);
  };
  if (config.embedding_scale != 1) x *= config.embedding_scale;
  for (int il = 0; il < config.n_layer; ++il) {
    const LayerWeights& layer = model.layer(il);

    cpu::block_norm(model.architecture().norm, x, cpu::vector_f32(*layer.attn_norm, storage),
                    optional_vector(layer.attn_norm_bias, bias_storage), config.rms_eps, normed);
    cpu::attention_block(kernels, model, il, normed, pos0, cpu_state->rope(il), cpu_state->keys(il),
                         cpu_state->values(il), projected);
    if (config.residual_scale != 1) projected *= config.residual_scale;
    x += projected;

    cpu::block_norm(model.architecture().norm, x, cpu::vector_f32(*layer.ffn_norm, storage),
                    optional_vector(layer.ffn_norm_bias, bias_storage), config.rms_eps, normed);
    if (config.layer_is_moe[static_cast<size_t>(il)]) {
      cpu::moe_ffn(kernels, model, layer, il, normed, pos0, state.interventions(), trace,
                   projected);
      if (layer.ffn_up != nullptr) {  // grok-2: a dense FFN beside the experts, averaged in
        cpu::RowMatrix dense;
        cpu::dense_ffn(kernels, layer, config.expert_activation, normed, dense);
        projected = (dense + projected) * static_cast<float>(std::sqrt(2.0) / 2);
      }
    } else {
      cpu::dense_ffn(kernels, layer, ExpertActivation::SwiGlu, normed, projected);
    }
    if (layer.ffn_post_norm != nullptr) {  // grok: the FFN output normed before its residual
      cpu::RowMatrix post;
      cpu::rms_norm(projected, cpu::vector_f32(*layer.ffn_post_norm, storage), config.rms_eps,
                    post);
      projected = std::move(post);
    }
    if (config.residual_scale != 1) projected *= config.residual_scale;
    x += projected;
  }

  const int first_row = mode == LogitsMode::All ? 0 : n - 1;
  const cpu::RowMatrix last_rows = x.middleRows(first_row, n - first_row);
  cpu::block_norm(model.architecture().norm, last_rows,
                  cpu::vector_f32(model.output_norm(), storage),
                  optional_vector(model.output_norm_bias(), bias_storage), config.rms_eps, normed);
  cpu::RowMatrix logits;
  kernels.matmul(cpu::WeightMatrix::of(model.output()), normed, logits);
  if (const gguf::TensorInfo* output_bias = model.output_bias()) {
    const std::span<const float> bias = cpu::vector_f32(*output_bias, storage);
    logits.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), logits.cols());
  }
  if (config.logit_scale != 1) logits /= config.logit_scale;
  if (config.final_softcap > 0) {  // grok-2
    logits = (logits.array() / config.final_softcap).tanh() * config.final_softcap;
  }
  logits_out.assign(logits.data(), logits.data() + logits.size());
  cpu_state->set_filled(pos0 + n);
}

}  // namespace moe
