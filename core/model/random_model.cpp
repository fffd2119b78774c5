// A small random llama-architecture MoE model, written with the GGUF writer. Weights are
// N(0, 1/fan_in) so activations keep unit scale through the layers; the router gets a larger
// scale so its softmax is peaked and top-k choices differ between tokens.
#include "moe/random_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "moe/arch.hpp"
#include "moe/error.hpp"

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
    for (int layer = 0; layer < static_cast<int>(spec.dense_layers.size()); ++layer) {
      require(spec.dense_layers.count(layer) > 0,
              "deepseek2 dense layers must be the leading ones");
    }
  }
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
  const int n_ff_shexp = arch.shared_experts == SharedExperts::Always
                             ? spec.n_ff_exp * spec.n_expert_shared
                             : (spec.n_ff_shexp > 0 ? spec.n_ff_shexp : spec.n_ff_exp);
  const auto u = [](int value) { return static_cast<uint64_t>(value); };
  const auto u32 = [](int value) { return static_cast<uint32_t>(value); };
  const auto n = [](int value) { return static_cast<size_t>(value); };
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
  if (spec.dense_layers.empty()) {
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
  if (latent) {
    if (spec.q_lora_rank > 0) writer.set_u32(key("attention.q_lora_rank"), u32(spec.q_lora_rank));
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
    writer.set_u32(key("leading_dense_block_count"),
                   u32(static_cast<int>(spec.dense_layers.size())));
    writer.set_u32(key("expert_shared_count"), u32(spec.n_expert_shared));
    writer.set_f32(key("expert_weights_scale"), spec.expert_weights_scale);
    writer.set_bool(key("expert_weights_norm"), spec.expert_weights_norm);
    writer.set_u32(key("expert_gating_func"), spec.sigmoid_gating ? 2u : 1u);
    writer.set_f32(key("rope.scaling.yarn_log_multiplier"), spec.yarn_log_multiplier);
  }
  if (spec.include_tokenizer) add_byte_tokenizer(writer, spec.n_vocab);

  Gaussian gaussian(spec.seed);
  const GgmlType type = spec.weight_type;
  // `count` stacked matrices of rows × cols (ne [cols, rows, count]); 0: a plain 2-D matrix.
  const auto matrix = [&](const std::string& name, int cols, int rows, int count = 0) {
    std::vector<uint64_t> dims = {u(cols), u(rows)};
    if (count > 0) dims.push_back(u(count));
    const float stddev = 1.0f / std::sqrt(static_cast<float>(cols));
    const size_t size = n(cols) * n(rows) * n(std::max(count, 1));
    writer.add_tensor_f32(name, dims, gaussian.values(size, stddev), type);
  };
  // Norm weights near 1 (not exactly: a test would not notice a norm that ignored them).
  const auto norm_of = [&](const std::string& name, int size) {
    writer.add_tensor_f32(name, {u(size)}, gaussian.values(n(size), 0.1f, 1.0f));
  };
  const auto norm = [&](const std::string& name) { norm_of(name, spec.n_embd); };
  const auto bias = [&](const std::string& name, int size) {
    writer.add_tensor_f32(name, {u(size)}, gaussian.values(n(size), 0.1f));
  };
  const bool norm_bias = arch.norm == NormKind::RmsWithBias;

  writer.add_tensor_f32("token_embd.weight", {u(spec.n_embd), u(spec.n_vocab)},
                        gaussian.values(n(spec.n_embd) * n(spec.n_vocab), 1.0f), type);
  norm("output_norm.weight");
  if (norm_bias) bias("output_norm.bias", spec.n_embd);
  if (!spec.tie_output || !arch.output_optional) matrix("output.weight", spec.n_embd, spec.n_vocab);
  if (arch.output_bias) bias("output.bias", spec.n_vocab);
  if (spec.rope_scaling == "longrope") {
    // Frequency divisors >= 1, as LongRoPE's factors are.
    for (const std::string name : {"rope_factors_long.weight", "rope_factors_short.weight"}) {
      std::vector<float> factors = gaussian.values(n(n_rot / 2), 0.5f, 1.5f);
      for (float& factor : factors) factor = std::max(factor, 1.0f);
      writer.add_tensor_f32(name, {u(n_rot / 2)}, factors);
    }
  }

  const int q_width = spec.n_head * head_dim, kv_width = n_head_kv * head_dim;
  const int attn_width = spec.n_head * head_dim_v;
  const bool biases = spec.attention_biases || arch.attention_biases_required;
  for (int layer = 0; layer < spec.n_layer; ++layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    norm(blk + "attn_norm.weight");
    if (norm_bias) bias(blk + "attn_norm.bias", spec.n_embd);
    if (latent) {
      const int nope = head_dim - n_rot, kv_lora = spec.kv_lora_rank;
      if (spec.q_lora_rank > 0) {
        matrix(blk + "attn_q_a.weight", spec.n_embd, spec.q_lora_rank);
        norm_of(blk + "attn_q_a_norm.weight", spec.q_lora_rank);
        matrix(blk + "attn_q_b.weight", spec.q_lora_rank, q_width);
      } else {
        matrix(blk + "attn_q.weight", spec.n_embd, q_width);
      }
      matrix(blk + "attn_kv_a_mqa.weight", spec.n_embd, kv_lora + n_rot);
      norm_of(blk + "attn_kv_a_norm.weight", kv_lora);
      if (spec.split_kv_b) {
        // Per head: k_b maps the latent to the no-rope key (stored transposed), v_b to the value.
        const std::vector<float> k_b = gaussian.values(
            n(nope) * n(kv_lora) * n(spec.n_head), 1.0f / std::sqrt(static_cast<float>(kv_lora)));
        writer.add_tensor_f32(blk + "attn_k_b.weight", {u(nope), u(kv_lora), u(spec.n_head)}, k_b,
                              type);
        matrix(blk + "attn_v_b.weight", kv_lora, head_dim_v, spec.n_head);
      } else {
        matrix(blk + "attn_kv_b.weight", kv_lora, spec.n_head * (nope + head_dim_v));
      }
    } else if (spec.fused_qkv) {
      // The q, k and v rows one after the other.
      matrix(blk + "attn_qkv.weight", spec.n_embd, q_width + 2 * kv_width);
    } else {
      matrix(blk + "attn_q.weight", spec.n_embd, q_width);
      matrix(blk + "attn_k.weight", spec.n_embd, kv_width);
      matrix(blk + "attn_v.weight", spec.n_embd, kv_width);
    }
    matrix(blk + "attn_output.weight", attn_width, spec.n_embd);
    if (biases && !latent) {
      if (spec.fused_qkv) {
        bias(blk + "attn_qkv.bias", q_width + 2 * kv_width);
      } else {
        bias(blk + "attn_q.bias", q_width);
        bias(blk + "attn_k.bias", kv_width);
        bias(blk + "attn_v.bias", kv_width);
      }
      // qwen2moe has no output-projection bias; the others with biases do.
      if (arch.shared_experts != SharedExperts::SigmoidGated) {
        bias(blk + "attn_output.bias", spec.n_embd);
      }
    }
    if (arch.qk_norm == QkNorm::WholeProjection) {
      norm_of(blk + "attn_q_norm.weight", q_width);
      norm_of(blk + "attn_k_norm.weight", kv_width);
    } else if (arch.qk_norm == QkNorm::PerHead) {
      norm_of(blk + "attn_q_norm.weight", head_dim);
      norm_of(blk + "attn_k_norm.weight", head_dim);
    }
    norm(blk + "ffn_norm.weight");
    if (norm_bias) bias(blk + "ffn_norm.bias", spec.n_embd);
    if (spec.dense_layers.count(layer) > 0) {
      matrix(blk + "ffn_gate.weight", spec.n_embd, spec.n_ff);
      matrix(blk + "ffn_up.weight", spec.n_embd, spec.n_ff);
      matrix(blk + "ffn_down.weight", spec.n_ff, spec.n_embd);
    } else {
      const float router_stddev = kRouterScale / std::sqrt(static_cast<float>(spec.n_embd));
      // Routers stay F32 whatever the weight type, as llama.cpp's converter and quantizer keep
      // them: quantizing the router would flip near-tie expert choices for no saving.
      writer.add_tensor_f32(blk + "ffn_gate_inp.weight", {u(spec.n_embd), u(spec.n_expert)},
                            gaussian.values(n(spec.n_embd) * n(spec.n_expert), router_stddev));
      matrix(blk + "ffn_gate_exps.weight", spec.n_embd, spec.n_ff_exp, spec.n_expert);
      matrix(blk + "ffn_up_exps.weight", spec.n_embd, spec.n_ff_exp, spec.n_expert);
      matrix(blk + "ffn_down_exps.weight", spec.n_ff_exp, spec.n_embd, spec.n_expert);
      if (latent && spec.selection_bias) {
        // Large enough next to sigmoid scores in (0, 1) to change some choices.
        writer.add_tensor_f32(blk + "exp_probs_b.bias", {u(spec.n_expert)},
                              gaussian.values(n(spec.n_expert), 0.2f));
      }
      if (arch.shared_experts == SharedExperts::SigmoidGated) {
        writer.add_tensor_f32(blk + "ffn_gate_inp_shexp.weight", {u(spec.n_embd)},
                              gaussian.values(n(spec.n_embd), router_stddev));
      }
      if (arch.shared_experts != SharedExperts::None && n_ff_shexp > 0) {
        matrix(blk + "ffn_gate_shexp.weight", spec.n_embd, n_ff_shexp);
        matrix(blk + "ffn_up_shexp.weight", spec.n_embd, n_ff_shexp);
        matrix(blk + "ffn_down_shexp.weight", n_ff_shexp, spec.n_embd);
      }
    }
  }
  return writer;
}

void write_random_model(const RandomModelSpec& spec, const std::filesystem::path& path) {
  build_random_model(spec).write(path);
}

}  // namespace moe
