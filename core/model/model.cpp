// Model loading: hyper-parameters from the GGUF metadata and every tensor checked for presence,
// type and exact shape before any compute touches it.
#include "moe/model.hpp"

#include <algorithm>
#include <climits>
#include <map>
#include <string>

#include "moe/error.hpp"

namespace moe {

namespace {

std::string dims_to_string(const std::vector<uint64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

// GGUF writers differ in whether they keep trailing unit dimensions; compare without them.
std::vector<uint64_t> without_trailing_ones(std::vector<uint64_t> dims) {
  while (dims.size() > 1 && dims.back() == 1) dims.pop_back();
  return dims;
}

// "F32, F16, ..." for the types the compute core converts to f32.
std::string supported_compute_types() {
  std::string names;
  for (uint32_t id = 0; id < 64; ++id) {
    if (!type_layout(id) || !is_supported_for_compute(static_cast<GgmlType>(id))) continue;
    if (!names.empty()) names += ", ";
    names += type_name(id);
  }
  return names;
}

// Reads hyper-parameters with errors that name the key and the file.
class HparamReader {
public:
  HparamReader(const gguf::GgufFile& file, const Architecture& arch) : file_(file), arch_(arch) {}

  bool has(std::string_view name) const { return file_.find(arch_.key(name)) != nullptr; }

  int positive(std::string_view name) const {
    const std::string key = arch_.key(name);
    const gguf::Value* value = file_.find(key);
    if (value == nullptr) throw Error("missing key '" + key + "' in " + file_.source_name());
    return to_int(key, *value, 1);
  }
  int positive_or(std::string_view name, int fallback) const {
    return has(name) ? positive(name) : fallback;
  }
  int non_negative_or(std::string_view name, int fallback) const {
    const std::string key = arch_.key(name);
    const gguf::Value* value = file_.find(key);
    return value == nullptr ? fallback : to_int(key, *value, 0);
  }
  float real_or(std::string_view name, float fallback) const {
    const std::string key = arch_.key(name);
    const gguf::Value* value = file_.find(key);
    if (value == nullptr) return fallback;
    double number = 0;
    try {
      number = value->as_double();
    } catch (const Error& error) {
      throw Error("key '" + key + "' in " + file_.source_name() + ": " + error.what());
    }
    if (!(number > 0) || number > 1e30) {
      throw Error("key '" + key + "' in " + file_.source_name() +
                  " must be a positive number, got " + std::to_string(number));
    }
    return static_cast<float>(number);
  }

private:
  int to_int(const std::string& key, const gguf::Value& value, int minimum) const {
    uint64_t number = 0;
    try {
      number = value.as_uint();
    } catch (const Error& error) {
      throw Error("key '" + key + "' in " + file_.source_name() + ": " + error.what());
    }
    if (number < static_cast<uint64_t>(minimum) || number > static_cast<uint64_t>(INT_MAX)) {
      throw Error("key '" + key + "' in " + file_.source_name() + " is " + std::to_string(number) +
                  ", expected at least " + std::to_string(minimum));
    }
    return static_cast<int>(number);
  }

  const gguf::GgufFile& file_;
  const Architecture& arch_;
};

}  // namespace

std::vector<int> ModelConfig::moe_layers() const {
  std::vector<int> layers;
  for (int layer = 0; layer < static_cast<int>(layer_is_moe.size()); ++layer) {
    if (layer_is_moe[layer]) layers.push_back(layer);
  }
  return layers;
}

Model::Model(gguf::GgufFile file) : file_(std::make_unique<gguf::GgufFile>(std::move(file))) {}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path) {
  auto model = std::shared_ptr<Model>(new Model(gguf::GgufFile::open(path)));
  model->path_ = path;
  model->read_config();
  model->bind_tensors();
  return model;
}

std::shared_ptr<const Model> Model::from_file(gguf::GgufFile file) {
  auto model = std::shared_ptr<Model>(new Model(std::move(file)));
  model->read_config();
  model->bind_tensors();
  return model;
}

void Model::read_config() {
  const gguf::GgufFile& file = *file_;
  const std::string& source = file.source_name();
  const gguf::Value* arch_value = file.find("general.architecture");
  if (arch_value == nullptr) throw Error("missing key 'general.architecture' in " + source);
  if (arch_value->type() != gguf::ValueType::STRING) {
    throw Error("key 'general.architecture' in " + source + " is not a string");
  }
  arch_ = &find_architecture(arch_value->as_string());

  ModelConfig& c = config_;
  c.architecture = arch_->name;
  const gguf::Value* name_value = file.find("general.name");
  if (name_value != nullptr && name_value->type() == gguf::ValueType::STRING) {
    c.name = name_value->as_string();
  }

  const HparamReader hp(file, *arch_);
  c.n_ctx_train = hp.positive("context_length");
  c.n_embd = hp.positive("embedding_length");
  c.n_layer = hp.positive("block_count");
  c.n_head = hp.positive("attention.head_count");
  c.n_head_kv = hp.positive_or("attention.head_count_kv", c.n_head);
  c.n_expert = hp.non_negative_or("expert_count", 0);
  c.n_expert_used = c.n_expert > 0 ? hp.positive("expert_used_count") : 0;
  // A model where every layer is MoE may leave feed_forward_length to the experts' width.
  c.n_ff = hp.positive_or("feed_forward_length", 0);
  c.n_ff_exp = hp.positive_or("expert_feed_forward_length", c.n_ff);
  c.rms_eps = hp.real_or("attention.layer_norm_rms_epsilon", 1e-5f);
  c.rope_base = hp.real_or("rope.freq_base", 10000.0f);

  const std::string where = " in " + source;
  if (c.n_head % c.n_head_kv != 0) {
    throw Error(arch_->key("attention.head_count") + " (" + std::to_string(c.n_head) +
                ") is not a multiple of " + arch_->key("attention.head_count_kv") + " (" +
                std::to_string(c.n_head_kv) + ")" + where);
  }
  if (!hp.has("attention.key_length") && c.n_embd % c.n_head != 0) {
    throw Error(arch_->key("embedding_length") + " (" + std::to_string(c.n_embd) +
                ") is not a multiple of " + arch_->key("attention.head_count") + " (" +
                std::to_string(c.n_head) + ") and " + arch_->key("attention.key_length") +
                " is missing" + where);
  }
  c.head_dim = hp.positive_or("attention.key_length", c.n_embd / c.n_head);
  c.head_dim_v = hp.positive_or("attention.value_length", c.head_dim);
  c.n_rot = hp.positive_or("rope.dimension_count", c.head_dim);
  if (c.n_rot % 2 != 0 || c.n_rot > c.head_dim) {
    throw Error(arch_->key("rope.dimension_count") + " (" + std::to_string(c.n_rot) +
                ") must be even and at most the head size (" + std::to_string(c.head_dim) + ")" +
                where);
  }
  if (c.n_expert > 0 && c.n_expert_used > c.n_expert) {
    throw Error(arch_->key("expert_used_count") + " (" + std::to_string(c.n_expert_used) +
                ") exceeds " + arch_->key("expert_count") + " (" + std::to_string(c.n_expert) +
                ")" + where);
  }
  if (arch_->read_extra_hparams != nullptr) arch_->read_extra_hparams(file, *arch_, c);
}

void Model::bind_tensors() {
  const gguf::GgufFile& file = *file_;
  const TensorNames& names = arch_->tensors;
  ModelConfig& c = config_;
  const auto u = [](int value) { return static_cast<uint64_t>(value); };

  // Returns the tensor after checking its type and shape; nullptr if optional and absent.
  const auto bind = [&](const std::string& name, std::vector<uint64_t> expected,
                        bool required) -> const gguf::TensorInfo* {
    const gguf::TensorInfo* tensor = name.empty() ? nullptr : file.find_tensor(name);
    if (tensor == nullptr) {
      if (required) throw Error("missing tensor '" + name + "' in " + file.source_name());
      return nullptr;
    }
    if (!is_supported_for_compute(tensor->type)) {
      throw Error("tensor '" + name + "' has type " + type_name(tensor->type) +
                  ", which the compute core does not support (supported: " +
                  supported_compute_types() + ")");
    }
    if (without_trailing_ones(tensor->dims) != expected) {
      throw Error("tensor '" + name + "' has shape " + dims_to_string(tensor->dims) +
                  ", expected " + dims_to_string(expected));
    }
    const auto layout = type_layout(static_cast<uint32_t>(tensor->type));
    if (!layout || expected[0] % layout->block_size != 0) {
      throw Error("tensor '" + name + "' rows of " + std::to_string(expected[0]) +
                  " elements are not a whole number of " + type_name(tensor->type) + " blocks");
    }
    return tensor;
  };

  token_embd_ = file.find_tensor(names.token_embd);
  if (token_embd_ == nullptr) {
    throw Error("missing tensor '" + names.token_embd + "' in " + file.source_name());
  }
  if (token_embd_->dims.size() != 2 || token_embd_->dims[1] == 0 ||
      token_embd_->dims[1] > static_cast<uint64_t>(INT_MAX)) {
    throw Error("tensor '" + names.token_embd + "' has shape " + dims_to_string(token_embd_->dims) +
                ", expected [" + std::to_string(c.n_embd) + ", n_vocab]");
  }
  c.n_vocab = static_cast<int>(token_embd_->dims[1]);
  const uint64_t n_embd = u(c.n_embd), n_vocab = u(c.n_vocab);
  token_embd_ = bind(names.token_embd, {n_embd, n_vocab}, true);
  output_norm_ = bind(names.output_norm, {n_embd}, true);
  output_ = bind(names.output, {n_embd, n_vocab}, false);
  if (output_ == nullptr) output_ = token_embd_;

  const uint64_t q_width = u(c.n_head * c.head_dim);
  const uint64_t k_width = u(c.n_head_kv * c.head_dim);
  const uint64_t v_width = u(c.n_head_kv * c.head_dim_v);
  const uint64_t attn_width = u(c.n_head * c.head_dim_v);
  const uint64_t n_expert = u(c.n_expert), n_ff = u(c.n_ff), n_ff_exp = u(c.n_ff_exp);

  layers_.assign(static_cast<size_t>(c.n_layer), LayerWeights{});
  c.layer_is_moe.assign(static_cast<size_t>(c.n_layer), false);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& layer = layers_[static_cast<size_t>(i)];
    const auto name = [&](const std::string& pattern) { return layer_tensor_name(pattern, i); };
    layer.attn_norm = bind(name(names.attn_norm), {n_embd}, true);
    layer.attn_q = bind(name(names.attn_q), {n_embd, q_width}, true);
    layer.attn_k = bind(name(names.attn_k), {n_embd, k_width}, true);
    layer.attn_v = bind(name(names.attn_v), {n_embd, v_width}, true);
    layer.attn_output = bind(name(names.attn_output), {attn_width, n_embd}, true);
    layer.attn_q_bias = bind(name(names.attn_q_bias), {q_width}, false);
    layer.attn_k_bias = bind(name(names.attn_k_bias), {k_width}, false);
    layer.attn_v_bias = bind(name(names.attn_v_bias), {v_width}, false);
    layer.attn_output_bias = bind(name(names.attn_output_bias), {n_embd}, false);
    layer.ffn_norm = bind(name(names.ffn_norm), {n_embd}, true);

    const std::string router = name(names.ffn_gate_inp);
    if (!router.empty() && file.find_tensor(router) != nullptr) {
      if (c.n_expert == 0) {
        throw Error("layer " + std::to_string(i) + " has router tensor '" + router + "' but key '" +
                    arch_->key("expert_count") + "' is missing or 0 in " + file.source_name());
      }
      if (c.n_ff_exp == 0) {
        throw Error("missing key '" + arch_->key("feed_forward_length") + "' in " +
                    file.source_name());
      }
      c.layer_is_moe[static_cast<size_t>(i)] = true;
      layer.ffn_gate_inp = bind(router, {n_embd, n_expert}, true);
      layer.ffn_gate_exps = bind(name(names.ffn_gate_exps), {n_embd, n_ff_exp, n_expert}, true);
      layer.ffn_up_exps = bind(name(names.ffn_up_exps), {n_embd, n_ff_exp, n_expert}, true);
      layer.ffn_down_exps = bind(name(names.ffn_down_exps), {n_ff_exp, n_embd, n_expert}, true);
    } else {
      if (c.n_ff == 0) {
        throw Error("missing key '" + arch_->key("feed_forward_length") + "' in " +
                    file.source_name() + " (layer " + std::to_string(i) + " is dense)");
      }
      layer.ffn_gate = bind(name(names.ffn_gate), {n_embd, n_ff}, true);
      layer.ffn_up = bind(name(names.ffn_up), {n_embd, n_ff}, true);
      layer.ffn_down = bind(name(names.ffn_down), {n_ff, n_embd}, true);
    }
  }
}

ParameterCounts Model::parameter_counts() const {
  ParameterCounts counts;
  const auto n = [](const gguf::TensorInfo* tensor) -> uint64_t {
    return tensor == nullptr ? 0 : tensor->n_elements;
  };
  counts.embedding = n(token_embd_);
  counts.output = output_tied() ? 0 : n(output_);
  counts.norms = n(output_norm_);
  for (int i = 0; i < config_.n_layer; ++i) {
    const LayerWeights& layer = layers_[static_cast<size_t>(i)];
    counts.attention += n(layer.attn_q) + n(layer.attn_k) + n(layer.attn_v) + n(layer.attn_output) +
                        n(layer.attn_q_bias) + n(layer.attn_k_bias) + n(layer.attn_v_bias) +
                        n(layer.attn_output_bias);
    counts.norms += n(layer.attn_norm) + n(layer.ffn_norm);
    counts.router += n(layer.ffn_gate_inp);
    const uint64_t experts = n(layer.ffn_gate_exps) + n(layer.ffn_up_exps) + n(layer.ffn_down_exps);
    counts.experts += experts;
    if (config_.n_expert > 0) {
      counts.active_experts += experts / static_cast<uint64_t>(config_.n_expert) *
                               static_cast<uint64_t>(config_.n_expert_used);
    }
    counts.dense_ffn += n(layer.ffn_gate) + n(layer.ffn_up) + n(layer.ffn_down);
  }
  const uint64_t shared = counts.embedding + counts.output + counts.attention + counts.norms +
                          counts.router + counts.dense_ffn;
  counts.total = shared + counts.experts;
  counts.active_per_token = shared + counts.active_experts;
  return counts;
}

std::vector<TensorTypeUsage> Model::tensor_types() const {
  std::map<uint32_t, TensorTypeUsage> by_type;
  for (const gguf::TensorInfo& tensor : file_->tensors()) {
    TensorTypeUsage& usage = by_type[static_cast<uint32_t>(tensor.type)];
    usage.type = tensor.type;
    usage.n_tensors += 1;
    usage.n_bytes += tensor.n_bytes;
  }
  std::vector<TensorTypeUsage> result;
  for (const auto& [id, usage] : by_type) result.push_back(usage);
  return result;
}

}  // namespace moe
