// The model shape's checks, the parameter layout (the tensor schema's GGUF names and shapes, in
// export order) and seeded initialization.
#include <cmath>
#include <numbers>
#include <random>
#include <utility>

#include "moe/arch.hpp"
#include "moe/error.hpp"
#include "moe/model.hpp"
#include "moe/tensor_schema.hpp"
#include "moe/train_model.hpp"

namespace moe::train {

void ModelShape::validate() const {
  const auto require = [](bool ok, const std::string& message) {
    if (!ok) throw Error("model shape: " + message);
  };
  require(n_vocab >= 2, "n_vocab must be at least 2, got " + std::to_string(n_vocab));
  require(n_ctx >= 1, "n_ctx must be positive, got " + std::to_string(n_ctx));
  require(n_embd >= 2 && n_layer >= 1 && n_head >= 1 && n_head_kv >= 1 && n_ff_exp >= 1,
          "n_embd, n_layer, n_head, n_head_kv and n_ff_exp must be positive");
  require(n_embd % n_head == 0, "n_embd (" + std::to_string(n_embd) +
                                    ") must be a multiple of n_head (" + std::to_string(n_head) +
                                    ")");
  require(n_head % n_head_kv == 0, "n_head (" + std::to_string(n_head) +
                                       ") must be a multiple of n_head_kv (" +
                                       std::to_string(n_head_kv) + ")");
  require(head_dim() % 2 == 0, "the head size n_embd / n_head must be even (RoPE pairs)");
  require(n_expert >= 1 && top_k >= 1 && top_k <= n_expert,
          "need 1 <= top_k <= n_expert, got top_k " + std::to_string(top_k) + ", n_expert " +
              std::to_string(n_expert));
  require(rms_eps > 0 && rope_base > 0, "rms_eps and rope_base must be positive");
}

namespace {

// Where the layout keeps the offset of each of the trainer's layer tensors.
constexpr std::pair<TensorRole, size_t LayerOffsets::*> kLayerOffsets[] = {
    {TensorRole::AttnNorm, &LayerOffsets::attn_norm},
    {TensorRole::AttnQ, &LayerOffsets::attn_q},
    {TensorRole::AttnK, &LayerOffsets::attn_k},
    {TensorRole::AttnV, &LayerOffsets::attn_v},
    {TensorRole::AttnOutput, &LayerOffsets::attn_output},
    {TensorRole::FfnNorm, &LayerOffsets::ffn_norm},
    {TensorRole::Router, &LayerOffsets::router},
    {TensorRole::GateExps, &LayerOffsets::gate_exps},
    {TensorRole::UpExps, &LayerOffsets::up_exps},
    {TensorRole::DownExps, &LayerOffsets::down_exps},
};

size_t& layer_offset(LayerOffsets& layer, TensorRole role) {
  for (const auto& [known, member] : kLayerOffsets) {
    if (known == role) return layer.*member;
  }
  throw Error("model layout: the trainer has no layer tensor of role " +
              std::to_string(static_cast<int>(role)));
}

size_t& global_offset(ParameterLayout& layout, TensorRole role) {
  switch (role) {
    case TensorRole::TokenEmbedding:
      return layout.token_embd;
    case TensorRole::OutputNorm:
      return layout.output_norm;
    case TensorRole::Output:
      return layout.output;
    default:
      throw Error("model layout: the trainer has no global tensor of role " +
                  std::to_string(static_cast<int>(role)));
  }
}

}  // namespace

ParameterLayout::ParameterLayout(const ModelShape& shape) : shape_(shape) {
  shape.validate();
  // The trainer's model is a llama-architecture MoE: every layer MoE, no biases, no RoPE
  // factors. Its tensors are the schema's required ones, plus the output head when untied.
  ModelConfig config;
  config.n_vocab = shape.n_vocab;
  config.n_embd = shape.n_embd;
  config.n_layer = shape.n_layer;
  config.n_head = shape.n_head;
  config.n_head_kv = shape.n_head_kv;
  config.head_dim = config.head_dim_v = config.n_rot = shape.head_dim();
  config.n_ff_exp = shape.n_ff_exp;
  config.n_expert = shape.n_expert;
  config.n_expert_used = shape.top_k;
  config.layer_is_moe.assign(static_cast<size_t>(shape.n_layer), true);
  layers.resize(static_cast<size_t>(shape.n_layer));
  for (const TensorSpec& spec : tensor_schema(find_architecture("llama"), config)) {
    if (!spec.required && !(spec.role == TensorRole::Output && !shape.tied_output)) continue;
    const size_t offset = add(spec.name, spec.dims, spec.kind == TensorKind::Norm);
    if (spec.layer < 0) {
      global_offset(*this, spec.role) = offset;
    } else {
      layer_offset(layers[static_cast<size_t>(spec.layer)], spec.role) = offset;
    }
  }
  if (shape.tied_output) output = token_embd;
}

size_t ParameterLayout::add(std::string name, std::vector<uint64_t> dims, bool is_norm) {
  ParameterTensor tensor;
  tensor.name = std::move(name);
  tensor.size = 1;
  for (uint64_t d : dims) tensor.size *= static_cast<size_t>(d);
  tensor.dims = std::move(dims);
  tensor.offset = size_;
  tensor.is_norm = is_norm;
  size_ += tensor.size;
  tensors_.push_back(std::move(tensor));
  return tensors_.back().offset;
}

const ParameterTensor* ParameterLayout::find(std::string_view name) const {
  for (const ParameterTensor& tensor : tensors_) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

namespace {

// Normal draws that are the same on every platform (std::normal_distribution is not).
class Gaussian {
public:
  explicit Gaussian(uint64_t seed) : rng_(seed) {}
  float next(float stddev) {
    const double u1 = (static_cast<double>(rng_() >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = (static_cast<double>(rng_() >> 11) + 0.5) * 0x1.0p-53;
    return static_cast<float>(stddev * std::sqrt(-2.0 * std::log(u1)) *
                              std::cos(2.0 * std::numbers::pi * u2));
  }

private:
  std::mt19937_64 rng_;
};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void init_parameters(const ParameterLayout& layout, uint64_t seed, std::span<float> params) {
  if (params.size() != layout.size()) {
    throw Error("init_parameters: " + std::to_string(params.size()) + " values for a model of " +
                std::to_string(layout.size()) + " parameters");
  }
  const ModelShape& shape = layout.shape();
  const float residual_scale = 1.0f / std::sqrt(2.0f * static_cast<float>(shape.n_layer));
  Gaussian gaussian(seed);
  for (const ParameterTensor& tensor : layout.tensors()) {
    float* data = params.data() + tensor.offset;
    if (tensor.is_norm) {
      std::fill(data, data + tensor.size, 1.0f);
      continue;
    }
    const float fan_in = static_cast<float>(tensor.dims[0]);
    float stddev = 1.0f / std::sqrt(fan_in);
    if (ends_with(tensor.name, "attn_output.weight") ||
        ends_with(tensor.name, "ffn_down_exps.weight")) {
      stddev *= residual_scale;
    } else if (ends_with(tensor.name, "ffn_gate_inp.weight")) {
      stddev *= 0.1f;
    }
    for (size_t i = 0; i < tensor.size; ++i) data[i] = gaussian.next(stddev);
  }
}

}  // namespace moe::train
