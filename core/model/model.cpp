// Model loading: hyper-parameters from the GGUF metadata and every tensor checked for presence,
// type and exact shape before any compute touches it.
#include "moe/model.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <iterator>
#include <map>
#include <string>
#include <utility>

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
  // A number that may be 0 (yarn_log_multiplier) or any sign (not used yet).
  float non_negative_real_or(std::string_view name, float fallback) const {
    const std::string key = arch_.key(name);
    const gguf::Value* value = file_.find(key);
    if (value == nullptr) return fallback;
    double number = 0;
    try {
      number = value->as_double();
    } catch (const Error& error) {
      throw Error("key '" + key + "' in " + file_.source_name() + ": " + error.what());
    }
    if (!(number >= 0) || number > 1e30) {
      throw Error("key '" + key + "' in " + file_.source_name() + " must be a number >= 0, got " +
                  std::to_string(number));
    }
    return static_cast<float>(number);
  }
  bool flag_or(std::string_view name, bool fallback) const {
    const std::string key = arch_.key(name);
    const gguf::Value* value = file_.find(key);
    if (value == nullptr) return fallback;
    try {
      return value->as_bool();
    } catch (const Error& error) {
      throw Error("key '" + key + "' in " + file_.source_name() + ": " + error.what());
    }
  }
  std::string text_or(std::string_view name, std::string fallback) const {
    const std::string key = arch_.key(name);
    const gguf::Value* value = file_.find(key);
    if (value == nullptr) return fallback;
    if (value->type() != gguf::ValueType::STRING) {
      throw Error("key '" + key + "' in " + file_.source_name() + " is not a string");
    }
    return value->as_string();
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

void read_expert_groups(const HparamReader& hp, const Architecture& arch, const std::string& where,
                        ModelConfig& c);
void read_architecture_hparams(const HparamReader& hp, const Architecture& arch,
                               const std::string& where, ModelConfig& c);
void read_llama4_hparams(const HparamReader& hp, ModelConfig& c);

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
  if (arch_->skips_nextn_layers) {
    // llama.cpp loads the multi-token-prediction blocks but never runs them.
    c.n_layer_nextn = hp.non_negative_or("nextn_predict_layers", 0);
    if (c.n_layer_nextn >= c.n_layer) {
      throw Error(arch_->key("nextn_predict_layers") + " (" + std::to_string(c.n_layer_nextn) +
                  ") must be less than " + arch_->key("block_count") + " (" +
                  std::to_string(c.n_layer) + ") in " + source);
    }
    c.n_layer -= c.n_layer_nextn;
  }
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
  if (arch_->openai_moe) c.head_dim = c.head_dim_v = c.n_rot;  // llama.cpp sizes heads by n_rot
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
  read_expert_groups(hp, *arch_, where, c);
  read_architecture_hparams(hp, *arch_, where, c);
  if (arch_->read_extra_hparams != nullptr) arch_->read_extra_hparams(file, *arch_, c);
}

namespace {

// expert_group_count / expert_group_used_count, checked as llama.cpp checks them when it loads
// a file (it asserts; we name the key). One group, or none, means no limit.
void read_expert_groups(const HparamReader& hp, const Architecture& arch, const std::string& where,
                        ModelConfig& c) {
  const int groups = hp.non_negative_or("expert_group_count", 0);
  const int used = hp.non_negative_or("expert_group_used_count", 0);
  if (groups <= 1 || c.n_expert == 0) return;
  const std::string count_key = arch.key("expert_group_count");
  const std::string used_key = arch.key("expert_group_used_count");
  if (groups >= c.n_expert || c.n_expert % groups != 0) {
    throw Error(count_key + " (" + std::to_string(groups) + ") must divide " +
                arch.key("expert_count") + " (" + std::to_string(c.n_expert) +
                ") into groups of at least 2" + where);
  }
  if (used == 0 || used >= groups) {
    throw Error(used_key + " (" + std::to_string(used) + ") must be between 1 and " + count_key +
                " - 1 (" + std::to_string(groups - 1) + ")" + where);
  }
  c.n_expert_groups = groups;
  c.n_expert_groups_used = used;
}

// Llama 4 as llama.cpp b8967 reads it: attention.sliding_window absent or non-zero means
// chunked attention (chunks of 8192 whatever the key says) on the layers il % pattern <
// pattern - 1 (attention.sliding_window_pattern, default 4), NoPE every 4th layer with the
// temperature tuning; 0 means neither (and RoPE on all but the last layer). The routed experts
// are expert_feed_forward_length wide, the shared one too; q/k L2 norm unless 128 experts.
void read_llama4_hparams(const HparamReader& hp, ModelConfig& c) {
  c.n_ff_exp = hp.positive("expert_feed_forward_length");
  c.n_expert_shared = 1;
  c.n_ff_shexp = c.n_ff_exp;
  c.expert_input_weighted = true;
  c.qk_l2_norm = c.n_expert != 128;
  const bool chunked =
      !hp.has("attention.sliding_window") || hp.non_negative_or("attention.sliding_window", 0) > 0;
  const auto n_layer = static_cast<size_t>(c.n_layer);
  c.attention_chunk.assign(n_layer, 0);
  c.layer_rotates.assign(n_layer, true);
  const int no_rope_step = chunked ? 4 : c.n_layer;
  for (int il = 0; il < c.n_layer; ++il)
    c.layer_rotates[static_cast<size_t>(il)] = (il + 1) % no_rope_step != 0;
  if (!chunked) return;
  constexpr int kChunk = 8192;
  const int pattern = hp.non_negative_or("attention.sliding_window_pattern", 4);
  for (int il = 0; il < c.n_layer; ++il) {
    if (pattern == 0 || il % pattern < pattern - 1)
      c.attention_chunk[static_cast<size_t>(il)] = kChunk;
  }
  c.attn_temp_scale = 0.1f;
  c.attn_temp_floor = kChunk;
  c.rope_base_swa = hp.real_or("rope.freq_base_swa", c.rope_base);
}

// What only some architectures have, with llama.cpp's defaults (see ../shared/ARCHITECTURES.md).
void read_architecture_hparams(const HparamReader& hp, const Architecture& arch,
                               const std::string& where, ModelConfig& c) {
  // RoPE scaling, as llama.cpp reads it for every architecture ("linear" when unnamed).
  const std::string scaling = hp.text_or("rope.scaling.type", "linear");
  float factor = 0;
  if (hp.has("rope.scaling.factor")) {
    factor = hp.real_or("rope.scaling.factor", 1);
  } else if (hp.has("rope.scale_linear")) {
    factor = hp.real_or("rope.scale_linear", 1);
  }
  c.rope_freq_scale = factor == 0 ? 1.0f : 1.0f / factor;
  if (scaling == "none") {
    c.rope_scaling = RopeScaling::None;
    c.rope_freq_scale = 1;
  } else if (scaling == "linear") {
    c.rope_scaling = c.rope_freq_scale == 1 ? RopeScaling::None : RopeScaling::Linear;
  } else if (scaling == "yarn") {
    c.rope_scaling = RopeScaling::Yarn;
  } else if (scaling == "longrope") {
    c.rope_scaling = RopeScaling::LongRope;
  } else {
    throw Error("key '" + arch.key("rope.scaling.type") + "' has unknown value '" + scaling +
                "' (known: none, linear, yarn, longrope)" + where);
  }
  c.rope_n_ctx_orig = hp.positive_or("rope.scaling.original_context_length", c.n_ctx_train);
  c.rope_attn_factor = hp.real_or("rope.scaling.attn_factor", 1);
  c.yarn_log_multiplier = hp.non_negative_real_or("rope.scaling.yarn_log_multiplier", 0);

  c.kq_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  if (arch.granite_multipliers) {
    c.embedding_scale = hp.real_or("embedding_scale", 1);
    c.residual_scale = hp.real_or("residual_scale", 1);
    c.logit_scale = hp.real_or("logit_scale", 1);
    if (hp.has("attention.scale")) c.kq_scale = hp.real_or("attention.scale", 1);
  }

  c.gating = arch.gating;
  c.normalize_expert_weights = arch.renormalize_top_k;
  c.expert_activation = arch.expert_activation;
  if (arch.fused_qkv_clamped) {
    // dbrx: LayerNorm's epsilon, the q/k/v clamp and experts of feed_forward_length, all required.
    c.rms_eps = hp.real_or("attention.layer_norm_epsilon", 0);
    if (!hp.has("attention.layer_norm_epsilon")) {
      throw Error("missing key '" + arch.key("attention.layer_norm_epsilon") + "'" + where);
    }
    if (!hp.has("attention.clamp_kqv")) {
      throw Error("missing key '" + arch.key("attention.clamp_kqv") + "'" + where);
    }
    c.clamp_kqv = hp.real_or("attention.clamp_kqv", 0);
    c.n_ff_exp = hp.positive("feed_forward_length");
  }
  if (arch.openai_moe) {
    c.softmax_over_chosen = true;
    c.n_ff_exp = hp.positive("expert_feed_forward_length");
    const int window = hp.positive("attention.sliding_window");
    // Layer il is windowed iff il % period < period - 1 (period 2: the even layers).
    const int period = hp.non_negative_or("attention.sliding_window_pattern", 2);
    c.attention_window.assign(static_cast<size_t>(c.n_layer), 0);
    for (int il = 0; il < c.n_layer; ++il) {
      if (period == 0 || il % period < period - 1)
        c.attention_window[static_cast<size_t>(il)] = window;
    }
    c.rope_base_swa = hp.real_or("rope.freq_base_swa", c.rope_base);
  }
  if (arch.routing_from_keys) {
    c.normalize_expert_weights = hp.flag_or("expert_weights_norm", false);
    c.expert_weights_scale = hp.real_or("expert_weights_scale", 1);
    // 1 is softmax, 2 sigmoid; 0 (unset) the architecture's default (deepseek2's older V2 files:
    // softmax; glm4moe: sigmoid).
    if (arch.gating_func_required && !hp.has("expert_gating_func")) {
      throw Error("missing key '" + arch.key("expert_gating_func") + "'" + where);
    }
    const int gating = hp.non_negative_or("expert_gating_func", 0);
    if (gating == 0) {
      c.gating = arch.gating;
    } else if (gating == 1) {
      c.gating = GatingFunction::Softmax;
    } else if (gating == 2) {
      c.gating = GatingFunction::Sigmoid;
    } else {
      throw Error("key '" + arch.key("expert_gating_func") + "' is " + std::to_string(gating) +
                  ", expected 1 (softmax) or 2 (sigmoid)" + where);
    }
  }

  // qwen2moe / qwen3moe: without expert_feed_forward_length the experts' width is n_ff / top-k.
  if (arch.expert_width_from_top_k && !hp.has("expert_feed_forward_length") &&
      c.n_expert_used > 0) {
    c.n_ff_exp = c.n_ff / c.n_expert_used;
  }

  c.shared_experts = arch.shared_experts;
  if (arch.shared_experts == SharedExperts::SigmoidGated) {
    // qwen2moe: the shared expert's width defaults to n_ff.
    c.n_expert_shared = 1;
    c.n_ff_shexp = hp.positive_or("expert_shared_feed_forward_length", c.n_ff);
  }

  if (arch.attention == AttentionKind::LatentMultiHead) {
    c.q_lora_rank = hp.non_negative_or("attention.q_lora_rank", 0);
    c.kv_lora_rank = hp.positive("attention.kv_lora_rank");
    // Newer conversions describe the compressed cache in key_length / value_length and the
    // per-head sizes in the *_mla keys.
    if (hp.has("attention.key_length_mla")) {
      c.head_dim = hp.positive("attention.key_length_mla");
      c.head_dim_v = hp.positive("attention.value_length_mla");
    }
    if (c.n_rot >= c.head_dim) {
      throw Error(arch.key("rope.dimension_count") + " (" + std::to_string(c.n_rot) +
                  ") must be less than the key head size (" + std::to_string(c.head_dim) + ")" +
                  where);
    }
    // After decompression every head has its own keys and values.
    c.n_head_kv = c.n_head;
    // llama.cpp pre-scales the scores for YaRN: mscale^2 / sqrt(head_dim).
    const float freq_scale = c.rope_scaling == RopeScaling::None ? 1.0f : c.rope_freq_scale;
    const float mscale =
        c.rope_attn_factor * (1.0f + c.yarn_log_multiplier * std::log(1.0f / freq_scale));
    c.kq_scale = mscale * mscale / std::sqrt(static_cast<float>(c.head_dim));
  }
  if (arch.shared_experts == SharedExperts::Always) {
    c.n_ff_exp = hp.positive("expert_feed_forward_length");
    if (arch.shared_count_required && !hp.has("expert_shared_count")) {
      throw Error("missing key '" + arch.key("expert_shared_count") + "'" + where);
    }
    c.n_expert_shared = hp.non_negative_or("expert_shared_count", 0);
    c.n_ff_shexp = c.n_ff_exp * c.n_expert_shared;
    const int shared_width = hp.non_negative_or("expert_shared_feed_forward_length", 0);
    if (arch.shared_width == Architecture::SharedWidth::KeyTimesCount) {
      c.n_ff_shexp = (shared_width > 0 ? shared_width : c.n_ff_exp) * c.n_expert_shared;
    } else if (arch.shared_width == Architecture::SharedWidth::KeyAlone) {
      // ernie4_5-moe: all its shared experts as one FFN of this width (none without the key).
      c.n_ff_shexp = shared_width;
      c.n_expert_shared = shared_width > 0 ? std::max(1, shared_width / c.n_ff_exp) : 0;
    }
  }
  if (arch.hunyuan_moe) {
    hp.positive("expert_feed_forward_length");  // required by llama.cpp's loader, not used
    c.n_ff_exp = hp.positive("feed_forward_length");
    c.n_expert_shared = 1;
    c.n_ff_shexp = hp.positive_or("expert_shared_feed_forward_length", c.n_ff);
  }
  if (arch.interleaved_moe_layers) c.n_moe_layer_step = hp.positive("interleave_moe_layer_step");
  if (arch.interleaved_moe_layers && arch.dense_layers_from_key && c.n_moe_layer_step > 1) {
    // ernie4_5-moe: llama.cpp b8967 makes every layer past the leading dense ones a MoE layer
    // when it loads the file but runs experts only on every n-th one, so such a file runs in
    // neither.
    throw Error(arch.key("interleave_moe_layer_step") + " is " +
                std::to_string(c.n_moe_layer_step) +
                ": dense layers between MoE layers are not supported for " + arch.name +
                " (llama.cpp b8967 does not run them either)" + where);
  }
  if (arch.llama4) read_llama4_hparams(hp, c);
  if (arch.grok) {
    // llama.cpp's defaults are Grok-1's (older files carry none of these keys).
    c.embedding_scale = hp.real_or("embedding_scale", 78.38367176906169f);
    c.logit_scale = 1 / hp.real_or("logit_scale", 0.5773502691896257f);  // logits are divided
    c.kq_scale = hp.real_or("attention.output_scale", 0.08838834764831845f);
    c.attn_softcap = hp.real_or("attn_logit_softcapping", 30.0f);
    c.final_softcap = hp.non_negative_real_or("final_logit_softcapping", 0);
  }
  if (arch.dense_layers_from_key) {
    c.n_layer_dense_lead = hp.non_negative_or("leading_dense_block_count", 0);
    if (c.n_layer_dense_lead > c.n_layer) {
      throw Error(arch.key("leading_dense_block_count") + " (" +
                  std::to_string(c.n_layer_dense_lead) + ") exceeds " + arch.key("block_count") +
                  " (" + std::to_string(c.n_layer) + ")" + where);
    }
  }
}

}  // namespace

std::string rope_scaling_name(RopeScaling scaling) {
  switch (scaling) {
    case RopeScaling::None:
      return "none";
    case RopeScaling::Linear:
      return "linear";
    case RopeScaling::Yarn:
      return "yarn";
    case RopeScaling::LongRope:
      return "longrope";
  }
  return "?";
}

namespace {

// Where a layer keeps the tensor of each role (the fused roles become views of these).
using LayerSlot = const gguf::TensorInfo* LayerWeights::*;
constexpr std::pair<TensorRole, LayerSlot> kLayerSlots[] = {
    {TensorRole::AttnNorm, &LayerWeights::attn_norm},
    {TensorRole::AttnNormBias, &LayerWeights::attn_norm_bias},
    {TensorRole::AttnQ, &LayerWeights::attn_q},
    {TensorRole::AttnK, &LayerWeights::attn_k},
    {TensorRole::AttnV, &LayerWeights::attn_v},
    {TensorRole::AttnOutput, &LayerWeights::attn_output},
    {TensorRole::AttnQBias, &LayerWeights::attn_q_bias},
    {TensorRole::AttnKBias, &LayerWeights::attn_k_bias},
    {TensorRole::AttnVBias, &LayerWeights::attn_v_bias},
    {TensorRole::AttnOutputBias, &LayerWeights::attn_output_bias},
    {TensorRole::AttnQNorm, &LayerWeights::attn_q_norm},
    {TensorRole::AttnKNorm, &LayerWeights::attn_k_norm},
    {TensorRole::AttnQA, &LayerWeights::attn_q_a},
    {TensorRole::AttnQANorm, &LayerWeights::attn_q_a_norm},
    {TensorRole::AttnQB, &LayerWeights::attn_q_b},
    {TensorRole::AttnKvAMqa, &LayerWeights::attn_kv_a_mqa},
    {TensorRole::AttnKvANorm, &LayerWeights::attn_kv_a_norm},
    {TensorRole::AttnKvB, &LayerWeights::attn_kv_b},
    {TensorRole::AttnKB, &LayerWeights::attn_k_b},
    {TensorRole::AttnVB, &LayerWeights::attn_v_b},
    {TensorRole::FfnNorm, &LayerWeights::ffn_norm},
    {TensorRole::FfnNormBias, &LayerWeights::ffn_norm_bias},
    {TensorRole::FfnGate, &LayerWeights::ffn_gate},
    {TensorRole::FfnUp, &LayerWeights::ffn_up},
    {TensorRole::FfnDown, &LayerWeights::ffn_down},
    {TensorRole::Router, &LayerWeights::ffn_gate_inp},
    {TensorRole::GateExps, &LayerWeights::ffn_gate_exps},
    {TensorRole::UpExps, &LayerWeights::ffn_up_exps},
    {TensorRole::DownExps, &LayerWeights::ffn_down_exps},
    {TensorRole::SelectionBias, &LayerWeights::exp_probs_b},
    {TensorRole::AttnSinks, &LayerWeights::attn_sinks},
    {TensorRole::AttnOutputNorm, &LayerWeights::attn_output_norm},
    {TensorRole::FfnPostNorm, &LayerWeights::ffn_post_norm},
    {TensorRole::FfnPostNormAlt, &LayerWeights::ffn_post_norm},
    {TensorRole::RouterBias, &LayerWeights::ffn_gate_inp_bias},
    {TensorRole::GateExpsBias, &LayerWeights::ffn_gate_exps_bias},
    {TensorRole::UpExpsBias, &LayerWeights::ffn_up_exps_bias},
    {TensorRole::DownExpsBias, &LayerWeights::ffn_down_exps_bias},
    {TensorRole::SharedExpertGate, &LayerWeights::ffn_gate_inp_shexp},
    {TensorRole::SharedGate, &LayerWeights::ffn_gate_shexp},
    {TensorRole::SharedUp, &LayerWeights::ffn_up_shexp},
    {TensorRole::SharedDown, &LayerWeights::ffn_down_shexp},
};

const gguf::TensorInfo*& layer_slot(LayerWeights& layer, TensorRole role) {
  for (const auto& [known, slot] : kLayerSlots) {
    if (known == role) return layer.*slot;
  }
  throw Error("tensor schema: a layer has no place for role " +
              std::to_string(static_cast<int>(role)));
}

}  // namespace

void Model::bind_tensors() {
  const gguf::GgufFile& file = *file_;
  const TensorNames& names = arch_->tensors;
  ModelConfig& c = config_;

  // Returns the tensor after checking its type and shape; nullptr if optional and absent.
  const auto bind = [&](const TensorSpec& spec) -> const gguf::TensorInfo* {
    const std::string& name = spec.name;
    const gguf::TensorInfo* tensor = name.empty() ? nullptr : file.find_tensor(name);
    if (tensor == nullptr) {
      if (spec.required) throw Error("missing tensor '" + name + "' in " + file.source_name());
      return nullptr;
    }
    if (!is_supported_for_compute(tensor->type)) {
      throw Error("tensor '" + name + "' has type " + type_name(tensor->type) +
                  ", which the compute core does not support (supported: " +
                  supported_compute_types() + ")");
    }
    if (without_trailing_ones(tensor->dims) != spec.dims) {
      throw Error("tensor '" + name + "' has shape " + dims_to_string(tensor->dims) +
                  ", expected " + dims_to_string(spec.dims));
    }
    const auto layout = type_layout(static_cast<uint32_t>(tensor->type));
    if (!layout || spec.dims[0] % layout->block_size != 0) {
      throw Error("tensor '" + name + "' rows of " + std::to_string(spec.dims[0]) +
                  " elements are not a whole number of " + type_name(tensor->type) + " blocks");
    }
    return tensor;
  };

  // `count` rows of a fused tensor from row `first` on (a 1-D tensor: `count` elements), as a
  // tensor of its own. Rows are whole blocks, so the view is a contiguous byte range.
  const auto row_view = [&](const gguf::TensorInfo& fused, uint64_t first, uint64_t count,
                            const char* part) -> const gguf::TensorInfo& {
    const uint64_t rows = fused.dims.size() > 1 ? fused.dims[1] : fused.dims[0];
    const uint64_t row_bytes = fused.n_bytes / rows;
    gguf::TensorInfo view = fused;
    view.name = fused.name + " (" + part + " rows)";
    if (fused.dims.size() > 1) {
      view.dims = {fused.dims[0], count};
    } else {
      view.dims = {count};
    }
    view.n_elements = fused.n_elements / rows * count;
    view.n_bytes = row_bytes * count;
    view.offset = fused.offset + row_bytes * first;
    view.data = fused.data + row_bytes * first;
    return split_views_.emplace_back(std::move(view));
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

  // Where the model keeps each global tensor.
  using GlobalSlot = const gguf::TensorInfo* Model::*;
  static constexpr std::pair<TensorRole, GlobalSlot> kGlobalSlots[] = {
      {TensorRole::TokenEmbedding, &Model::token_embd_},
      {TensorRole::OutputNorm, &Model::output_norm_},
      {TensorRole::OutputNormBias, &Model::output_norm_bias_},
      {TensorRole::Output, &Model::output_},
      {TensorRole::OutputBias, &Model::output_bias_},
      {TensorRole::RopeFreqs, &Model::rope_freqs_},
      {TensorRole::RopeFactorsLong, &Model::rope_factors_long_},
      {TensorRole::RopeFactorsShort, &Model::rope_factors_short_},
  };
  bound_.clear();
  const auto keep = [&](const TensorSpec& spec, const gguf::TensorInfo* tensor) {
    if (tensor != nullptr) bound_.push_back({spec.role, spec.layer, tensor});
  };
  for (const TensorSpec& spec : global_tensor_schema(*arch_, c)) {
    const gguf::TensorInfo* tensor = bind(spec);
    keep(spec, tensor);
    const auto slot = std::find_if(std::begin(kGlobalSlots), std::end(kGlobalSlots),
                                   [&](const auto& entry) { return entry.first == spec.role; });
    if (slot == std::end(kGlobalSlots))
      throw Error("tensor schema: " + spec.name + " is not a global tensor");
    this->*slot->second = tensor;
  }
  if (output_ == nullptr) output_ = token_embd_;  // tied

  const bool latent = arch_->attention == AttentionKind::LatentMultiHead;
  layers_.assign(static_cast<size_t>(c.n_layer), LayerWeights{});
  selection_bias_.assign(static_cast<size_t>(c.n_layer), {});
  c.layer_is_moe.assign(static_cast<size_t>(c.n_layer), false);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& layer = layers_[static_cast<size_t>(i)];
    const auto name = [&](const std::string& pattern) { return layer_tensor_name(pattern, i); };
    const auto present = [&](const std::string& pattern) {
      return !pattern.empty() && file.find_tensor(name(pattern)) != nullptr;
    };

    const std::string router = name(names.ffn_gate_inp);
    bool moe = arch_->dense_layers_from_key ? i >= c.n_layer_dense_lead && c.n_expert > 0
                                            : present(names.ffn_gate_inp);
    if (arch_->interleaved_moe_layers) {
      moe = c.n_expert > 0 && i >= c.n_layer_dense_lead && (i + 1) % c.n_moe_layer_step == 0;
    }
    if (moe) {
      if (c.n_expert == 0) {
        throw Error("layer " + std::to_string(i) + " has router tensor '" + router + "' but key '" +
                    arch_->key("expert_count") + "' is missing or 0 in " + file.source_name());
      }
      if (c.n_ff_exp == 0) {
        throw Error("missing key '" + arch_->key("feed_forward_length") + "' in " +
                    file.source_name());
      }
    } else if (c.n_ff == 0) {
      throw Error("missing key '" + arch_->key("feed_forward_length") + "' in " +
                  file.source_name() + " (layer " + std::to_string(i) + " is dense)");
    }
    c.layer_is_moe[static_cast<size_t>(i)] = moe;

    // Which of the equivalent layouts this file uses for the layer.
    TensorVariant variant;
    variant.fused_qkv = !latent && ((!present(names.attn_q) && present(names.attn_qkv)) ||
                                    arch_->fused_qkv_clamped);
    variant.split_kv_b = latent && !present(names.attn_kv_b);
    variant.post_ffw_norm = arch_->grok && !present(names.ffn_post_norm);

    for (const TensorSpec& spec : layer_tensor_schema(*arch_, c, i, variant)) {
      const gguf::TensorInfo* tensor = bind(spec);
      if (tensor == nullptr) continue;
      const uint64_t q_width = static_cast<uint64_t>(c.n_head) * c.head_dim;
      const uint64_t k_width = static_cast<uint64_t>(c.n_head_kv) * c.head_dim;
      const uint64_t v_width = static_cast<uint64_t>(c.n_head_kv) * c.head_dim_v;
      if (spec.role == TensorRole::AttnQkv || spec.role == TensorRole::AttnQkvBias) {
        // The backends see three projections (and biases): row views of the fused tensor.
        const bool weights = spec.role == TensorRole::AttnQkv;
        const TensorRole q = weights ? TensorRole::AttnQ : TensorRole::AttnQBias;
        const TensorRole k = weights ? TensorRole::AttnK : TensorRole::AttnKBias;
        const TensorRole v = weights ? TensorRole::AttnV : TensorRole::AttnVBias;
        const gguf::TensorInfo* views[] = {&row_view(*tensor, 0, q_width, "q"),
                                           &row_view(*tensor, q_width, k_width, "k"),
                                           &row_view(*tensor, q_width + k_width, v_width, "v")};
        const TensorRole roles[] = {q, k, v};
        for (int part = 0; part < 3; ++part) {
          layer_slot(layer, roles[part]) = views[part];
          bound_.push_back({roles[part], i, views[part]});
        }
        continue;
      }
      layer_slot(layer, spec.role) = tensor;
      keep(spec, tensor);
      if (spec.role == TensorRole::AttnQNorm) c.has_qk_norm = true;
      if (spec.role == TensorRole::SelectionBias) {
        std::vector<float> storage(static_cast<size_t>(tensor->n_elements));
        dequantize_row(tensor->type, tensor->data, storage.data(), tensor->n_elements);
        selection_bias_[static_cast<size_t>(i)] = std::move(storage);
        c.has_selection_bias = true;
      }
    }
  }
}

const gguf::TensorInfo* Model::rope_factors(int n_ctx) const {
  if (rope_freqs_ != nullptr) return rope_freqs_;
  return n_ctx > config_.rope_n_ctx_orig ? rope_factors_long_ : rope_factors_short_;
}

std::span<const float> Model::selection_bias(int layer) const {
  if (layer < 0 || layer >= static_cast<int>(selection_bias_.size())) return {};
  return selection_bias_[static_cast<size_t>(layer)];
}

ParameterCounts Model::parameter_counts() const {
  ParameterCounts counts;
  for (const BoundTensor& bound : bound_) {
    const uint64_t n = bound.tensor->n_elements;
    switch (tensor_role_group(bound.role)) {
      case ParameterGroup::Embedding:
        counts.embedding += n;
        break;
      case ParameterGroup::Output:
        counts.output += n;
        break;
      case ParameterGroup::Attention:
        counts.attention += n;
        break;
      case ParameterGroup::Norms:
        counts.norms += n;
        break;
      case ParameterGroup::Router:
        counts.router += n;
        break;
      case ParameterGroup::Experts:
        counts.experts += n;
        // Each expert tensor stacks n_expert equal matrices; top-k of them run per token.
        counts.active_experts += n / static_cast<uint64_t>(config_.n_expert) *
                                 static_cast<uint64_t>(config_.n_expert_used);
        break;
      case ParameterGroup::DenseFfn:
        counts.dense_ffn += n;
        break;
      case ParameterGroup::SharedExperts:
        counts.shared_experts += n;
        break;
      case ParameterGroup::None:
        break;
    }
  }
  const uint64_t shared = counts.embedding + counts.output + counts.attention + counts.norms +
                          counts.router + counts.dense_ffn + counts.shared_experts;
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
