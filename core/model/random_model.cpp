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
  require(spec.n_embd % spec.n_head == 0, "n_embd must be a multiple of n_head");
  require(spec.n_head % spec.n_head_kv == 0, "n_head must be a multiple of n_head_kv");
  require((spec.n_embd / spec.n_head) % 2 == 0, "the head size must be even (RoPE pairs)");
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
  const bool has_moe = static_cast<int>(spec.dense_layers.size()) < spec.n_layer;
  const int head_dim = spec.n_embd / spec.n_head;
  const auto u = [](int value) { return static_cast<uint64_t>(value); };
  const auto u32 = [](int value) { return static_cast<uint32_t>(value); };
  const auto n = [](int value) { return static_cast<size_t>(value); };

  gguf::GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("general.name", spec.name);
  writer.set_u32("llama.context_length", u32(spec.n_ctx));
  writer.set_u32("llama.embedding_length", u32(spec.n_embd));
  writer.set_u32("llama.block_count", u32(spec.n_layer));
  // llama.cpp reads the experts' width from feed_forward_length; keep that when no layer is
  // dense, and name the experts' width separately only for mixed models.
  if (spec.dense_layers.empty()) {
    writer.set_u32("llama.feed_forward_length", u32(spec.n_ff_exp));
  } else {
    writer.set_u32("llama.feed_forward_length", u32(spec.n_ff));
    if (has_moe) writer.set_u32("llama.expert_feed_forward_length", u32(spec.n_ff_exp));
  }
  writer.set_u32("llama.attention.head_count", u32(spec.n_head));
  writer.set_u32("llama.attention.head_count_kv", u32(spec.n_head_kv));
  writer.set_f32("llama.attention.layer_norm_rms_epsilon", spec.rms_eps);
  writer.set_f32("llama.rope.freq_base", spec.rope_base);
  writer.set_u32("llama.rope.dimension_count", u32(head_dim));
  writer.set_u32("llama.vocab_size", u32(spec.n_vocab));
  if (has_moe) {
    writer.set_u32("llama.expert_count", u32(spec.n_expert));
    writer.set_u32("llama.expert_used_count", u32(spec.n_expert_used));
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
  const auto norm = [&](const std::string& name) {
    writer.add_tensor_f32(name, {u(spec.n_embd)}, gaussian.values(n(spec.n_embd), 0.1f, 1.0f));
  };
  const auto bias = [&](const std::string& name, int size) {
    writer.add_tensor_f32(name, {u(size)}, gaussian.values(n(size), 0.1f));
  };

  writer.add_tensor_f32("token_embd.weight", {u(spec.n_embd), u(spec.n_vocab)},
                        gaussian.values(n(spec.n_embd) * n(spec.n_vocab), 1.0f), type);
  norm("output_norm.weight");
  if (!spec.tie_output) matrix("output.weight", spec.n_embd, spec.n_vocab);

  const int q_width = spec.n_head * head_dim, kv_width = spec.n_head_kv * head_dim;
  for (int layer = 0; layer < spec.n_layer; ++layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    norm(blk + "attn_norm.weight");
    matrix(blk + "attn_q.weight", spec.n_embd, q_width);
    matrix(blk + "attn_k.weight", spec.n_embd, kv_width);
    matrix(blk + "attn_v.weight", spec.n_embd, kv_width);
    matrix(blk + "attn_output.weight", q_width, spec.n_embd);
    if (spec.attention_biases) {
      bias(blk + "attn_q.bias", q_width);
      bias(blk + "attn_k.bias", kv_width);
      bias(blk + "attn_v.bias", kv_width);
      bias(blk + "attn_output.bias", spec.n_embd);
    }
    norm(blk + "ffn_norm.weight");
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
    }
  }
  return writer;
}

void write_random_model(const RandomModelSpec& spec, const std::filesystem::path& path) {
  build_random_model(spec).write(path);
}

}  // namespace moe
