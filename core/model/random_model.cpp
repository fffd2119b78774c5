// A small random MoE model of any architecture in the table, written with the GGUF writer: the
// keys here, the tensors as the tensor schema lists them. Weights are N(0, 1/fan_in) so
// activations keep unit scale through the layers; the router gets a larger scale so its softmax
// is peaked and top-k choices differ between tokens.
#include "moe/random_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "moe/arch.hpp"
#include "moe/error.hpp"
#include "moe/model.hpp"
#include "moe/tensor_schema.hpp"

namespace moe {

namespace {

constexpr float kRouterScale = 2.0f;  // router logits' standard deviation, roughly

// Platform-independent normal draws (std::normal_distribution is implementation-defined).
class Gaussian {
public:
  explicit Gaussian(uint64_t seed) : rng_(seed) {}
  std::vector<float> values(size_t count, float stddev, float mean = 0) {
    std::vector<float> out(count);
    for (float& value : out) value = mean + stddev * next();
    return out;
  }

private:
  double uniform_open() { return (static_cast<double>(rng_() >> 11) + 0.5) * 0x1.0p-53; }
  float next() {  // Box-Muller, one value per pair of uniforms
    const double radius = std::sqrt(-2.0 * std::log(uniform_open()));
    return static_cast<float>(radius * std::cos(2.0 * std::numbers::pi * uniform_open()));
  }
  std::mt19937_64 rng_;
};

// GPT-2's byte-to-unicode map: printable bytes stand for themselves, the other 68 bytes take
// code points 256, 257, ... in byte order.
uint32_t byte_code_point(int byte) {
  const auto printable = [](int b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  };
  if (printable(byte)) return static_cast<uint32_t>(byte);
  uint32_t shifted = 256;
  for (int b = 0; b < byte; ++b) {
    if (!printable(b)) ++shifted;
  }
  return shifted;
}

std::string utf8(uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return out;
}

void add_byte_tokenizer(gguf::GgufWriter& writer, int n_vocab) {
  constexpr int32_t kNormal = 1, kControl = 3, kUnused = 5;
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int byte = 0; byte < 256; ++byte) {
    tokens.push_back(utf8(byte_code_point(byte)));
    types.push_back(kNormal);
  }
  tokens.push_back("<s>");
  types.push_back(kControl);
  tokens.push_back("</s>");
  types.push_back(kControl);
  for (int id = 258; id < n_vocab; ++id) {  // rows past the byte vocabulary, never produced
    tokens.push_back("<unused_" + std::to_string(id - 258) + ">");
    types.push_back(kUnused);
  }
  writer.set_string("tokenizer.ggml.model", "gpt2");
  writer.set_string("tokenizer.ggml.pre", "gpt-2");
  writer.set_string_array("tokenizer.ggml.tokens", tokens);
  writer.set_i32_array("tokenizer.ggml.token_type", types);
  writer.set_string_array("tokenizer.ggml.merges", {});
  writer.set_u32("tokenizer.ggml.bos_token_id", 256);
  writer.set_u32("tokenizer.ggml.eos_token_id", 257);
  writer.set_bool("tokenizer.ggml.add_bos_token", true);
}

// The leading run of dense layers 0, 1, ... (leading_dense_block_count).
int spec_dense_lead(const RandomModelSpec& spec) {
  int lead = 0;
  while (spec.dense_layers.count(lead) > 0) ++lead;
  return lead;
}

void check_spec(const RandomModelSpec& spec) {
  const auto require = [](bool ok, const std::string& message) {
    if (!ok) throw Error("random model spec: " + message);
  };
  require(spec.n_embd > 0 && spec.n_layer > 0 && spec.n_head > 0 && spec.n_head_kv > 0 &&
              spec.n_vocab > 0 && spec.n_ctx > 0,
          "sizes must be positive");
  require(spec.head_dim > 0 || spec.n_embd % spec.n_head == 0,
          "n_embd must be a multiple of n_head (or head_dim given)");
  require(spec.n_head % spec.n_head_kv == 0, "n_head must be a multiple of n_head_kv");
  const Architecture& arch = find_architecture(spec.architecture);
  const int head_dim = spec.head_dim > 0 ? spec.head_dim : spec.n_embd / spec.n_head;
  const int n_rot = spec.n_rot > 0 ? spec.n_rot : head_dim;
  require(n_rot % 2 == 0 && n_rot <= head_dim, "n_rot must be even and at most the head size");
  if (arch.attention == AttentionKind::LatentMultiHead) {
    require(spec.n_rot > 0 && spec.n_rot < head_dim && spec.kv_lora_rank > 0,
            "deepseek2 needs 0 < n_rot < head_dim and kv_lora_rank > 0");
  }
  if (arch.dense_layers_from_key) {
    for (int layer = 0; layer < static_cast<int>(spec.dense_layers.size()); ++layer) {
      require(spec.dense_layers.count(layer) > 0,
              arch.name + " dense layers must be the leading ones");
    }
  }
  if (arch.interleaved_moe_layers) {
    require(spec.moe_layer_step > 0, "interleave_moe_layer_step must be positive");
    const int lead = arch.dense_layers_from_key ? spec_dense_lead(spec) : 0;
    for (int layer = 0; layer < spec.n_layer; ++layer) {
      const bool moe = layer >= lead && (layer + 1) % spec.moe_layer_step == 0;
      require(moe == (spec.dense_layers.count(layer) == 0),
              arch.name + " dense layers must be those interleave_moe_layer_step " +
                  std::to_string(spec.moe_layer_step) + " leaves dense");
    }
  }
  require(!arch.openai_moe || spec.sliding_window > 0, "gpt-oss needs a sliding window > 0");
  require(!arch.openai_moe || n_rot == head_dim, "gpt-oss heads are rope.dimension_count wide");
  require(!spec.fused_qkv || arch.attention == AttentionKind::Standard,
          "a fused attn_qkv needs standard attention");
  require(spec.n_expert_groups >= 0 && spec.n_expert_groups_used >= 0,
          "expert group counts must not be negative");
  const bool has_moe = static_cast<int>(spec.dense_layers.size()) < spec.n_layer;
  require(!has_moe || (spec.n_expert > 0 && spec.n_expert_used > 0 &&
                       spec.n_expert_used <= spec.n_expert && spec.n_ff_exp > 0),
          "MoE layers need 0 < n_expert_used <= n_expert and n_ff_exp > 0");
  require(spec.dense_layers.empty() || spec.n_ff > 0, "dense layers need n_ff > 0");
  for (int layer : spec.dense_layers) {
    require(layer >= 0 && layer < spec.n_layer,
            "dense layer " + std::to_string(layer) + " does not exist");
  }
  require(!spec.include_tokenizer || spec.n_vocab >= 258,
          "n_vocab must be at least 258 with the byte tokenizer");
  const auto layout = type_layout(static_cast<uint32_t>(spec.weight_type));
  require(layout.has_value() && is_supported_for_compute(spec.weight_type),
          "weight type " + type_name(spec.weight_type) + " is not supported");
  const uint32_t block = layout->block_size;
  require(spec.n_embd % block == 0 && (spec.n_ff_exp % block == 0 || !has_moe) &&
              (spec.n_ff % block == 0 || spec.dense_layers.empty()),
          "n_embd, n_ff and n_ff_exp must be multiples of " + std::to_string(block) + " for " +
              type_name(spec.weight_type));
}

}  // namespace

gguf::GgufWriter build_random_model(const RandomModelSpec& spec) {
  check_spec(spec);
  const Architecture& arch = find_architecture(spec.architecture);
  const bool latent = arch.attention == AttentionKind::LatentMultiHead;
  const bool has_moe = static_cast<int>(spec.dense_layers.size()) < spec.n_layer;
  const int head_dim = spec.head_dim > 0 ? spec.head_dim : spec.n_embd / spec.n_head;
  const int head_dim_v = spec.head_dim_v > 0 ? spec.head_dim_v : head_dim;
  const int n_rot = spec.n_rot > 0 ? spec.n_rot : head_dim;
  const int n_head_kv = latent ? spec.n_head : spec.n_head_kv;
  const int n_ff_shexp = arch.llama4 ? spec.n_ff_exp  // one shared expert, as wide as the others
                         : arch.shared_experts == SharedExperts::Always && !arch.hunyuan_moe
                             ? spec.n_ff_exp * spec.n_expert_shared
                             : (spec.n_ff_shexp > 0 ? spec.n_ff_shexp : spec.n_ff_exp);
  const auto u32 = [](int value) { return static_cast<uint32_t>(value); };
  const auto key = [&](const std::string& name) { return arch.key(name); };

  gguf::GgufWriter writer;
  writer.set_string("general.architecture", arch.name);
  writer.set_string("general.name", spec.name);
  writer.set_u32(key("context_length"), u32(spec.n_ctx));
  writer.set_u32(key("embedding_length"), u32(spec.n_embd));
  writer.set_u32(key("block_count"), u32(spec.n_layer));
  // llama.cpp reads the experts' width from feed_forward_length for most architectures; keep
  // that when no layer is dense, and name the experts' width separately otherwise (and for the
  // architectures that always read it from expert_feed_forward_length).
  if (spec.dense_layers.empty() && !spec.dense_ffn_beside_experts) {
    writer.set_u32(key("feed_forward_length"), u32(spec.n_ff_exp));
  } else {
    writer.set_u32(key("feed_forward_length"), u32(spec.n_ff));
  }
  if (has_moe && (!spec.dense_layers.empty() || arch.name != "llama")) {
    writer.set_u32(key("expert_feed_forward_length"), u32(spec.n_ff_exp));
  }
  writer.set_u32(key("attention.head_count"), u32(spec.n_head));
  writer.set_u32(key("attention.head_count_kv"), u32(spec.split_kv_b ? 1 : n_head_kv));
  writer.set_f32(key("attention.layer_norm_rms_epsilon"), spec.rms_eps);
  writer.set_f32(key("rope.freq_base"), spec.rope_base);
  writer.set_u32(key("rope.dimension_count"), u32(n_rot));
  if (spec.head_dim > 0 && !latent) writer.set_u32(key("attention.key_length"), u32(head_dim));
  if (spec.head_dim > 0 && !latent) writer.set_u32(key("attention.value_length"), u32(head_dim));
  writer.set_u32(key("vocab_size"), u32(spec.n_vocab));
  if (has_moe) {
    writer.set_u32(key("expert_count"), u32(spec.n_expert));
    writer.set_u32(key("expert_used_count"), u32(spec.n_expert_used));
    if (spec.n_expert_groups > 0) {
      writer.set_u32(key("expert_group_count"), u32(spec.n_expert_groups));
      writer.set_u32(key("expert_group_used_count"), u32(spec.n_expert_groups_used));
    }
  }
  if (!spec.rope_scaling.empty()) {
    writer.set_string(key("rope.scaling.type"), spec.rope_scaling);
    if (spec.rope_scaling != "longrope") {
      writer.set_f32(key("rope.scaling.factor"), spec.rope_scaling_factor);
    }
    writer.set_u32(key("rope.scaling.original_context_length"),
                   u32(spec.rope_n_ctx_orig > 0 ? spec.rope_n_ctx_orig : spec.n_ctx));
  }
  if (spec.rope_attn_factor > 0) {
    writer.set_f32(key("rope.scaling.attn_factor"), spec.rope_attn_factor);
  }
  if (arch.granite_multipliers) {
    writer.set_f32(key("embedding_scale"), spec.embedding_scale);
    writer.set_f32(key("residual_scale"), spec.residual_scale);
    writer.set_f32(key("logit_scale"), spec.logit_scale);
    writer.set_f32(key("attention.scale"), spec.attention_scale);
  }
  if (arch.shared_experts == SharedExperts::SigmoidGated) {
    writer.set_u32(key("expert_shared_feed_forward_length"), u32(n_ff_shexp));
  }
  if (arch.openai_moe) {
    writer.set_u32(key("attention.sliding_window"), u32(spec.sliding_window));
    if (spec.rope_base_swa > 0) writer.set_f32(key("rope.freq_base_swa"), spec.rope_base_swa);
  }
  if (arch.hunyuan_moe) writer.set_u32(key("expert_shared_feed_forward_length"), u32(n_ff_shexp));
  if (arch.interleaved_moe_layers) {
    writer.set_u32(key("interleave_moe_layer_step"), u32(spec.moe_layer_step));
  }
  if (arch.shared_width == Architecture::SharedWidth::KeyAlone) {  // ernie4_5-moe
    writer.set_u32(key("leading_dense_block_count"), u32(spec_dense_lead(spec)));
    if (n_ff_shexp > 0) writer.set_u32(key("expert_shared_feed_forward_length"), u32(n_ff_shexp));
  }
  if (arch.grok && spec.final_softcap > 0) {
    writer.set_f32(key("final_logit_softcapping"), spec.final_softcap);
  }
  if (arch.fused_qkv_clamped) {
    writer.set_f32(key("attention.layer_norm_epsilon"), spec.rms_eps);
    writer.set_f32(key("attention.clamp_kqv"), spec.clamp_kqv);
  }
  // deepseek2 and glm4moe: dense lead, shared experts and routing by key.
  const auto write_routing_keys = [&] {
    writer.set_u32(key("leading_dense_block_count"),
                   u32(static_cast<int>(spec.dense_layers.size())));
    writer.set_u32(key("expert_shared_count"), u32(spec.n_expert_shared));
    writer.set_f32(key("expert_weights_scale"), spec.expert_weights_scale);
    writer.set_bool(key("expert_weights_norm"), spec.expert_weights_norm);
    writer.set_u32(key("expert_gating_func"), spec.sigmoid_gating ? 2u : 1u);
  };
  if (arch.skips_nextn_layers) {
    write_routing_keys();
    writer.set_u32(key("nextn_predict_layers"), 0);
  }
  if (latent) {
    // Written even when 0 (a plain attn_q): llama.cpp reads the key for every deepseek2 file
    // except the 26- and 27-layer V2-Lite shapes, so without it other layer counts fail there.
    writer.set_u32(key("attention.q_lora_rank"), u32(spec.q_lora_rank));
    writer.set_u32(key("attention.kv_lora_rank"), u32(spec.kv_lora_rank));
    if (spec.split_kv_b) {
      writer.set_u32(key("attention.key_length"), u32(spec.kv_lora_rank + n_rot));
      writer.set_u32(key("attention.value_length"), u32(spec.kv_lora_rank));
      writer.set_u32(key("attention.key_length_mla"), u32(head_dim));
      writer.set_u32(key("attention.value_length_mla"), u32(head_dim_v));
    } else {
      writer.set_u32(key("attention.key_length"), u32(head_dim));
      writer.set_u32(key("attention.value_length"), u32(head_dim_v));
    }
    write_routing_keys();
    writer.set_f32(key("rope.scaling.yarn_log_multiplier"), spec.yarn_log_multiplier);
  }
  if (spec.include_tokenizer) add_byte_tokenizer(writer, spec.n_vocab);

  // The configuration Model reads back from these keys: what the tensor schema needs.
  ModelConfig config;
  config.n_vocab = spec.n_vocab;
  config.n_embd = spec.n_embd;
  config.n_layer = spec.n_layer;
  config.n_head = spec.n_head;
  config.n_head_kv = n_head_kv;
  config.head_dim = head_dim;
  config.head_dim_v = latent ? head_dim_v : head_dim;
  config.n_rot = n_rot;
  config.n_ff = spec.n_ff;
  config.n_ff_exp = spec.n_ff_exp;
  config.n_expert = has_moe ? spec.n_expert : 0;
  config.n_expert_used = has_moe ? spec.n_expert_used : 0;
  config.q_lora_rank = latent ? spec.q_lora_rank : 0;
  config.kv_lora_rank = latent ? spec.kv_lora_rank : 0;
  config.n_ff_shexp = arch.shared_experts == SharedExperts::None ? 0 : n_ff_shexp;
  for (int layer = 0; layer < spec.n_layer; ++layer)
    config.layer_is_moe.push_back(spec.dense_layers.count(layer) == 0);

  Gaussian gaussian(spec.seed);
  const bool biases = spec.attention_biases || arch.attention_biases_required;
  // Which optional tensors of the schema this spec writes.
  const auto wanted = [&](TensorRole role) {
    switch (role) {
      case TensorRole::Output:
        return !spec.tie_output;
      case TensorRole::RopeFactorsLong:
      case TensorRole::RopeFactorsShort:
        return spec.rope_scaling == "longrope";
      case TensorRole::AttnQBias:
      case TensorRole::AttnKBias:
      case TensorRole::AttnVBias:
      case TensorRole::AttnQkvBias:
        return biases;
      case TensorRole::AttnOutputBias:
        return biases && arch.attention_output_bias;
      case TensorRole::SelectionBias:
        return spec.selection_bias;
      case TensorRole::AttnQNorm:
      case TensorRole::AttnKNorm:
        return spec.qk_norm;
      case TensorRole::FfnGate:  // optional only beside grok's experts
      case TensorRole::FfnUp:
      case TensorRole::FfnDown:
        return spec.dense_ffn_beside_experts;
      default:
        return false;
    }
  };
  const float router_stddev = kRouterScale / std::sqrt(static_cast<float>(spec.n_embd));
  TensorVariant variant;
  variant.fused_qkv = spec.fused_qkv || arch.fused_qkv_clamped;
  variant.split_kv_b = spec.split_kv_b;
  for (const TensorSpec& tensor : tensor_schema(arch, config, variant)) {
    if (tensor.name.empty() || (!tensor.required && !wanted(tensor.role))) continue;
    size_t size = 1;
    for (uint64_t d : tensor.dims) size *= static_cast<size_t>(d);
    switch (tensor.kind) {
      case TensorKind::Matrix: {
        // N(0, 1/fan_in); the embedding N(0, 1). attn_k_b maps the latent (its second
        // dimension, stored transposed) to the no-rope keys.
        const uint64_t fan_in = tensor.role == TensorRole::AttnKB ? tensor.dims[1] : tensor.dims[0];
        const float stddev = tensor.role == TensorRole::TokenEmbedding
                                 ? 1.0f
                                 : 1.0f / std::sqrt(static_cast<float>(fan_in));
        writer.add_tensor_f32(tensor.name, tensor.dims, gaussian.values(size, stddev),
                              spec.weight_type);
        break;
      }
      case TensorKind::Router:
        // Routers stay F32 whatever the weight type, as llama.cpp's converter and quantizer keep
        // them: quantizing the router would flip near-tie expert choices for no saving.
        writer.add_tensor_f32(tensor.name, tensor.dims, gaussian.values(size, router_stddev));
        break;
      case TensorKind::Norm:
        // Near 1 (not exactly: a test would not notice a norm that ignored its weights).
        writer.add_tensor_f32(tensor.name, tensor.dims, gaussian.values(size, 0.1f, 1.0f));
        break;
      case TensorKind::Bias: {
        // The selection bias is large enough next to sigmoid scores in (0, 1) to change some
        // choices.
        // Sinks about as large as attention scores, so they take a real share of the softmax.
        const float stddev = tensor.role == TensorRole::SelectionBias ? 0.2f
                             : tensor.role == TensorRole::AttnSinks   ? 1.0f
                                                                      : 0.1f;
        writer.add_tensor_f32(tensor.name, tensor.dims, gaussian.values(size, stddev));
        break;
      }
      case TensorKind::Factors: {
        // Frequency divisors >= 1, as LongRoPE's factors are.
        std::vector<float> factors = gaussian.values(size, 0.5f, 1.5f);
        for (float& factor : factors) factor = std::max(factor, 1.0f);
        writer.add_tensor_f32(tensor.name, tensor.dims, factors);
        break;
      }
    }
  }
  return writer;
}

void write_random_model(const RandomModelSpec& spec, const std::filesystem::path& path) {
  build_random_model(spec).write(path);
}

}  // namespace moe
