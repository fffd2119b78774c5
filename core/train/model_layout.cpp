// The model shape's checks, the parameter layout (GGUF names and shapes, in export order) and
// seeded initialization.
#include <cmath>
#include <numbers>
#include <random>

#include "moe/error.hpp"
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

ParameterLayout::ParameterLayout(const ModelShape& shape) : shape_(shape) {
  shape.validate();
  const auto u = [](int v) { return static_cast<uint64_t>(v); };
  const int q_width = shape.n_head * shape.head_dim(),
            kv_width = shape.n_head_kv * shape.head_dim();
  token_embd = add("token_embd.weight", {u(shape.n_embd), u(shape.n_vocab)}, false);
  output_norm = add("output_norm.weight", {u(shape.n_embd)}, true);
  output = shape.tied_output ? token_embd
                             : add("output.weight", {u(shape.n_embd), u(shape.n_vocab)}, false);
  for (int il = 0; il < shape.n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    LayerOffsets layer;
    layer.attn_norm = add(blk + "attn_norm.weight", {u(shape.n_embd)}, true);
    layer.attn_q = add(blk + "attn_q.weight", {u(shape.n_embd), u(q_width)}, false);
    layer.attn_k = add(blk + "attn_k.weight", {u(shape.n_embd), u(kv_width)}, false);
    layer.attn_v = add(blk + "attn_v.weight", {u(shape.n_embd), u(kv_width)}, false);
    layer.attn_output = add(blk + "attn_output.weight", {u(q_width), u(shape.n_embd)}, false);
    layer.ffn_norm = add(blk + "ffn_norm.weight", {u(shape.n_embd)}, true);
    layer.router = add(blk + "ffn_gate_inp.weight", {u(shape.n_embd), u(shape.n_expert)}, false);
    layer.gate_exps = add(blk + "ffn_gate_exps.weight",
                          {u(shape.n_embd), u(shape.n_ff_exp), u(shape.n_expert)}, false);
    layer.up_exps = add(blk + "ffn_up_exps.weight",
                        {u(shape.n_embd), u(shape.n_ff_exp), u(shape.n_expert)}, false);
    layer.down_exps = add(blk + "ffn_down_exps.weight",
                          {u(shape.n_ff_exp), u(shape.n_embd), u(shape.n_expert)}, false);
    layers.push_back(layer);
  }
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
