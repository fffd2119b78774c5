#include "reference_architectures.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>

#include "moe/ggml_types.hpp"

namespace moe::testing {

namespace {

// What differs per architecture, spelled out here on its own (not read from the arch table).
struct Facts {
  bool split_halves_rope = false;  // pairs (i, i + n_rot/2) instead of (2i, 2i+1)
  bool renormalize = true;         // chosen weights / their sum
  bool norm_bias = false;          // phimoe
  bool latent_attention = false;   // deepseek2
  bool granite = false;
  // gpt-oss: sinks, sliding windows, router and expert biases, clamped SwiGLU, heads of n_rot.
  bool openai = false;
  // glm4moe: keys for routing / dense lead / shared experts as deepseek2, sigmoid by default, a
  // selection bias in every MoE layer, optional per-head q/k norms, NextN blocks skipped.
  bool glm = false;
  bool routing_keys = false;          // expert_gating_func, expert_weights_norm / _scale
  bool qk_norm_after_rope = false;  // hunyuan-moe
  // llama4: MoE every interleave_moe_layer_step-th layer with a shared expert, sigmoid gates on
  // the experts' input, NoPE every 4th layer, 8192-position chunks, L2 q/k norms.
  bool llama4 = false;
  // grok: multipliers and soft caps (llama.cpp's Grok-1 defaults), norms of the attention and
  // FFN outputs, GeGLU experts with ggml's f16-table GELU, an optional dense FFN beside them.
  bool grok = false;
  // ernie4_5-moe: leading dense layers, an optional selection bias on the softmax scores, shared
  // experts of expert_shared_feed_forward_length where given.
  bool ernie = false;
  // bailingmoe2: glm4moe's routing keys and NextN skip with per-head q/k norms always, an
  // optional selection bias, shared experts of (expert_shared_feed_forward_length or the
  // experts' width) x expert_shared_count.
  bool bailing = false;
  bool layer_norm = false;            // dbrx: LayerNorm (eps layer_norm_epsilon), q/k/v clamped
  std::string ffn_norm = "ffn_norm";  // the FFN pre-norm's tensor name
};

Facts facts_of(const std::string& arch) {
  Facts f;
  if (arch == "llama" || arch == "granitemoe") {
    f.granite = arch == "granitemoe";
  } else if (arch == "olmoe" || arch == "qwen2moe") {
    f.split_halves_rope = true;
    f.renormalize = false;
  } else if (arch == "qwen3moe") {
    f.split_halves_rope = true;
  } else if (arch == "phimoe") {
    f.split_halves_rope = true;
    f.norm_bias = true;
  } else if (arch == "deepseek2") {
    f.latent_attention = true;
    f.routing_keys = true;
    f.renormalize = false;  // unless expert_weights_norm
  } else if (arch == "gpt-oss") {
    f.split_halves_rope = true;
    f.openai = true;
    f.ffn_norm = "post_attention_norm";
  } else if (arch == "dbrx") {
    f.split_halves_rope = true;
    f.layer_norm = true;
    f.ffn_norm = "attn_output_norm";
  } else if (arch == "hunyuan-moe") {
    f.split_halves_rope = true;
    f.qk_norm_after_rope = true;
  } else if (arch == "ernie4_5-moe") {
    f.ernie = true;
  } else if (arch == "bailingmoe2") {
    f.split_halves_rope = true;
    f.bailing = true;
    f.routing_keys = true;
    f.renormalize = false;
  } else if (arch == "grok") {
    f.split_halves_rope = true;
    f.grok = true;
  } else if (arch == "llama4") {
    f.llama4 = true;
    f.renormalize = false;
  } else if (arch == "glm4moe") {
    f.split_halves_rope = true;
    f.glm = true;
    f.routing_keys = true;
    f.renormalize = false;
    f.ffn_norm = "post_attention_norm";
  } else {
    throw std::runtime_error("reference: unknown architecture " + arch);
  }
  return f;
}

using Vector = std::vector<double>;

// A whole tensor as doubles; element (c, r, m) of ne [cols, rows, count] is at
// (m * rows + r) * cols + c.
struct Tensor {
  std::vector<uint64_t> dims;
  Vector values;
  bool present = false;
  size_t cols() const { return static_cast<size_t>(dims.at(0)); }
  size_t rows() const { return dims.size() > 1 ? static_cast<size_t>(dims[1]) : 1; }
};

Tensor read(const gguf::GgufFile& file, const std::string& name, bool required = true) {
  const gguf::TensorInfo* info = file.find_tensor(name);
  Tensor tensor;
  if (info == nullptr) {
    if (required) throw std::runtime_error("reference: missing tensor " + name);
    return tensor;
  }
  std::vector<float> f32(static_cast<size_t>(info->n_elements));
  if (info->type == GgmlType::F32) {
    std::memcpy(f32.data(), info->data, f32.size() * sizeof(float));
  } else {
    dequantize_row(info->type, info->data, f32.data(), static_cast<int64_t>(f32.size()));
  }
  tensor.dims = info->dims;
  tensor.values.assign(f32.begin(), f32.end());
  tensor.present = true;
  return tensor;
}

// Rows [first, first + count) of a fused 2-D tensor (elements of a 1-D one) as a tensor.
Tensor rows_of(const Tensor& fused, size_t first, size_t count) {
  Tensor part;
  part.present = true;
  const size_t width = fused.dims.size() > 1 ? fused.cols() : 1;
  part.dims = fused.dims.size() > 1 ? std::vector<uint64_t>{fused.dims[0], count}
                                    : std::vector<uint64_t>{count};
  part.values.assign(fused.values.begin() + static_cast<ptrdiff_t>(first * width),
                     fused.values.begin() + static_cast<ptrdiff_t>((first + count) * width));
  return part;
}

Vector multiply(const Tensor& w, const Vector& x, size_t matrix = 0) {
  const size_t cols = w.cols(), rows = w.rows();
  Vector y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (size_t c = 0; c < cols; ++c) sum += w.values[(matrix * rows + r) * cols + c] * x[c];
    y[r] = sum;
  }
  return y;
}

void add(Vector& x, const Vector& y) {
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
}

double norm(const Vector& x) {
  double sum = 0;
  for (double v : x) sum += v * v;
  return std::sqrt(sum);
}

void scale(Vector& x, double factor) {
  for (double& value : x) value *= factor;
}

// RMSNorm of x[from, from + size) with weight (and bias where given).
Vector rms_norm(const Vector& x, const Tensor& weight, const Tensor& bias, double eps,
                size_t from = 0, size_t size = 0) {
  if (size == 0) size = x.size();
  double sum_squares = 0;
  for (size_t i = 0; i < size; ++i) sum_squares += x[from + i] * x[from + i];
  const double inv = 1.0 / std::sqrt(sum_squares / static_cast<double>(size) + eps);
  Vector y(size);
  for (size_t i = 0; i < size; ++i) {
    y[i] = x[from + i] * inv * weight.values[i] + (bias.present ? bias.values[i] : 0.0);
  }
  return y;
}

// LayerNorm without bias: (x - mean) / sqrt(variance + eps) * weight.
Vector layer_norm(const Vector& x, const Tensor& weight, double eps) {
  double mean = 0, variance = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (double v : x) variance += (v - mean) * (v - mean);
  variance /= static_cast<double>(x.size());
  Vector y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = (x[i] - mean) / std::sqrt(variance + eps) * weight.values[i];
  return y;
}

Vector swiglu(const Tensor& gate, const Tensor& up, const Tensor& down, const Vector& x,
              size_t matrix = 0) {
  Vector g = multiply(gate, x, matrix);
  const Vector u = multiply(up, x, matrix);
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  return multiply(down, g, matrix);
}

// Row `row` of a 2-D bias tensor (one expert's bias).
Vector bias_row(const Tensor& bias, size_t row) {
  const size_t cols = bias.cols();
  return Vector(bias.values.begin() + static_cast<ptrdiff_t>(row * cols),
                bias.values.begin() + static_cast<ptrdiff_t>((row + 1) * cols));
}

// gpt-oss's expert: biased gate and up, g = min(g, 7), u = clamp(u, -7, 7),
// h = g sigmoid(1.702 g) (u + 1), then the biased down projection.
Vector clamped_swiglu(const Tensor& gate, const Tensor& up, const Tensor& down,
                      const Tensor& gate_b, const Tensor& up_b, const Tensor& down_b,
                      const Vector& x, size_t expert) {
  Vector g = multiply(gate, x, expert);
  Vector u = multiply(up, x, expert);
  add(g, bias_row(gate_b, expert));
  add(u, bias_row(up_b, expert));
  for (size_t i = 0; i < g.size(); ++i) {
    const double gc = std::min(g[i], 7.0), uc = std::clamp(u[i], -7.0, 7.0);
    g[i] = gc / (1.0 + std::exp(-1.702 * gc)) * (uc + 1.0);
  }
  Vector y = multiply(down, g, expert);
  add(y, bias_row(down_b, expert));
  return y;
}

// ggml's CPU GELU: the tanh form (in float) of the input rounded to f16, rounded to f16 again;
// 0 at or below -10, the input at or above 10.
double ggml_gelu(double x) {
  if (x <= -10) return 0;
  if (x >= 10) return x;
  const float h = f16_to_f32(f32_to_f16(static_cast<float>(x)));
  const float g =
      0.5f * h *
      (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
  return f16_to_f32(f32_to_f16(g));
}

// grok's GeGLU: gelu(gate x) * up x, then down.
Vector geglu(const Tensor& gate, const Tensor& up, const Tensor& down, const Vector& x,
             size_t matrix = 0) {
  Vector g = multiply(gate, x, matrix);
  const Vector u = multiply(up, x, matrix);
  for (size_t i = 0; i < g.size(); ++i) g[i] = ggml_gelu(g[i]) * u[i];
  return multiply(down, g, matrix);
}

Vector softmax(const Vector& x) {
  const double max_value = *std::max_element(x.begin(), x.end());
  Vector p(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += p[i] = std::exp(x[i] - max_value);
  for (double& value : p) value /= sum;
  return p;
}

// RoPE as llama.cpp computes it: linear scaling, YaRN (ramp between correction dims and
// magnitude correction), frequency factors, and an overall magnitude.
struct Rope {
  bool split_halves = false;
  int n_rot = 0;
  double base = 10000, freq_scale = 1, magnitude = 1;
  bool yarn = false;
  double low = 0, high = 0;
  Vector factors;

  // Rotates x[at .. at + n_rot) for position pos.
  void apply(Vector& x, size_t at, int pos) const {
    const int half = n_rot / 2;
    for (int i = 0; i < half; ++i) {
      double extrapolated = pos / std::pow(base, 2.0 * i / n_rot);
      if (!factors.empty()) extrapolated /= factors[static_cast<size_t>(i)];
      double theta = extrapolated * freq_scale;
      double m = magnitude;
      if (yarn) {
        const double ramp =
            1.0 - std::min(1.0, std::max(0.0, (i - low) / std::max(0.001, high - low)));
        theta = theta * (1 - ramp) + extrapolated * ramp;
        m *= 1 + 0.1 * std::log(1 / freq_scale);
      }
      const size_t ia = split_halves ? at + i : at + 2 * i;
      const size_t ib = split_halves ? at + i + half : at + 2 * i + 1;
      const double a = x[ia], b = x[ib];
      x[ia] = m * (a * std::cos(theta) - b * std::sin(theta));
      x[ib] = m * (a * std::sin(theta) + b * std::cos(theta));
    }
  }
};

struct Layer {
  Tensor attn_norm, attn_norm_b, ffn_norm, ffn_norm_b;
  Tensor wq, wk, wv, wo, bq, bk, bv, bo, q_norm, k_norm;
  Tensor q_a, q_a_norm, q_b, kv_a, kv_a_norm, kv_b, k_b, v_b;  // latent attention
  bool moe = false;
  Tensor router, gate, up, down, selection_bias;
  Tensor shexp_gate_inp, shexp_gate, shexp_up, shexp_down;
  Tensor sinks, router_b, gate_b, up_b, down_b;  // gpt-oss
  Tensor attn_out_norm, ffn_post_norm, dense_gate, dense_up, dense_down;  // grok
  int window = 0;                                // gpt-oss sliding window (0: full)
  int chunk = 0;                                 // llama4 attention chunk (0: none)
  bool rotates = true;                           // llama4: false on NoPE layers
};

}  // namespace

ReferenceResult reference_forward(const gguf::GgufFile& file, std::span<const int32_t> tokens,
                                  const ReferenceOptions& options) {
  const std::string arch = file.get_string("general.architecture");
  const Facts facts = facts_of(arch);
  const auto key = [&](const std::string& name) { return arch + "." + name; };
  const auto uint_or = [&](const std::string& name, uint64_t fallback) {
    return static_cast<int>(file.get_uint_or(key(name), fallback));
  };
  const int n_embd = uint_or("embedding_length", 0);
  // glm4moe's trailing NextN blocks are never run.
  const int n_layer = uint_or("block_count", 0) -
                      (facts.glm || facts.bailing ? uint_or("nextn_predict_layers", 0) : 0);
  const int n_head = uint_or("attention.head_count", 0);
  int n_head_kv = uint_or("attention.head_count_kv", static_cast<uint64_t>(n_head));
  int head_dim = uint_or("attention.key_length", static_cast<uint64_t>(n_embd / n_head));
  int head_dim_v = uint_or("attention.value_length", static_cast<uint64_t>(head_dim));
  if (file.find(key("attention.key_length_mla")) != nullptr) {
    head_dim = uint_or("attention.key_length_mla", 0);
    head_dim_v = uint_or("attention.value_length_mla", 0);
  }
  if (facts.latent_attention) n_head_kv = n_head;
  const int n_rot = uint_or("rope.dimension_count", static_cast<uint64_t>(head_dim));
  if (facts.openai) head_dim = head_dim_v = n_rot;
  const double eps = facts.layer_norm
                         ? file.get_double_or(key("attention.layer_norm_epsilon"), 0)
                         : file.get_double_or(key("attention.layer_norm_rms_epsilon"), 1e-5);
  const double clamp_kqv = facts.layer_norm ? file.get_double_or(key("attention.clamp_kqv"), 0) : 0;
  // The architecture's block norm (RMSNorm, with bias where given, or dbrx's LayerNorm).
  const auto block_norm = [&](const Vector& x, const Tensor& weight, const Tensor& bias) {
    return facts.layer_norm ? layer_norm(x, weight, eps) : rms_norm(x, weight, bias, eps);
  };
  const int top_k = uint_or("expert_used_count", 0);
  const int n_ctx_train = uint_or("context_length", 0);

  // RoPE.
  Rope rope;
  rope.split_halves = facts.split_halves_rope;
  rope.n_rot = n_rot;
  rope.base = file.get_double_or(key("rope.freq_base"), 10000.0);
  const std::string scaling = file.get_string_or(key("rope.scaling.type"), "linear");
  const double factor = file.get_double_or(key("rope.scaling.factor"), 0.0);
  rope.freq_scale = (scaling == "none" || factor == 0) ? 1.0 : 1.0 / factor;
  rope.magnitude = file.get_double_or(key("rope.scaling.attn_factor"), 1.0);
  const int n_ctx_orig =
      uint_or("rope.scaling.original_context_length", static_cast<uint64_t>(n_ctx_train));
  if (scaling == "yarn") {
    rope.yarn = true;
    const auto dim = [&](double rotations) {
      return n_rot * std::log(n_ctx_orig / (rotations * 2 * std::numbers::pi)) /
             (2 * std::log(rope.base));
    };
    rope.low = std::max(0.0, std::floor(dim(32)));
    rope.high = std::min(static_cast<double>(n_rot - 1), std::ceil(dim(1)));
  }
  if (file.find_tensor("rope_freqs.weight") != nullptr) {
    rope.factors = read(file, "rope_freqs.weight").values;
  } else if (file.find_tensor("rope_factors_long.weight") != nullptr) {
    // Phi-3.5 files carry LongRoPE factors whatever rope.scaling.type says; llama.cpp uses them
    // by the context size.
    const bool long_context = options.n_ctx > n_ctx_orig;
    rope.factors =
        read(file, long_context ? "rope_factors_long.weight" : "rope_factors_short.weight").values;
  }

  double kq_scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  double embedding_scale = 1, residual_scale = 1, logit_scale = 1;
  if (facts.granite) {
    embedding_scale = file.get_double_or(key("embedding_scale"), 1.0);
    residual_scale = file.get_double_or(key("residual_scale"), 1.0);
    logit_scale = file.get_double_or(key("logit_scale"), 1.0);
    kq_scale = file.get_double_or(key("attention.scale"), kq_scale);
  }

  double attn_softcap = 0, final_softcap = 0;
  if (facts.grok) {
    embedding_scale = file.get_double_or(key("embedding_scale"), 78.38367176906169);
    logit_scale = 1 / file.get_double_or(key("logit_scale"), 0.5773502691896257);
    kq_scale = file.get_double_or(key("attention.output_scale"), 0.08838834764831845);
    attn_softcap = file.get_double_or(key("attn_logit_softcapping"), 30.0);
    final_softcap = file.get_double_or(key("final_logit_softcapping"), 0.0);
  }

  // Routing (the selection bias is per layer, below).
  ReferenceGate gate{.renormalize = facts.renormalize};
  // Group-limited routing, read for every architecture (1 group: no limit).
  gate.n_groups = uint_or("expert_group_count", 0);
  gate.n_groups_used = uint_or("expert_group_used_count", 0);
  int dense_lead = -1;  // -1: a layer is MoE when it has a router
  int moe_step = 0;     // > 0: a layer is MoE when (il + 1) % moe_step == 0 (and il >= lead)
  // llama4's attention: chunked layers, NoPE every no_rope_step-th, their query temperature.
  bool chunked = false, l2_qk = false;
  int no_rope_step = 0;
  Rope chunk_rope = rope;
  if (facts.ernie) {
    dense_lead = uint_or("leading_dense_block_count", 0);
    moe_step = uint_or("interleave_moe_layer_step", 0);
  }
  if (facts.llama4) {
    gate.sigmoid = true;
    moe_step = uint_or("interleave_moe_layer_step", 0);
    const bool has_window = file.find(key("attention.sliding_window")) != nullptr;
    chunked = !has_window || uint_or("attention.sliding_window", 0) > 0;
    no_rope_step = chunked ? 4 : n_layer;
    l2_qk = uint_or("expert_count", 0) != 128;
    chunk_rope.base = file.get_double_or(key("rope.freq_base_swa"), rope.base);
  }
  int kv_lora = 0;
  if (facts.routing_keys) {
    gate.renormalize = file.get_bool_or(key("expert_weights_norm"), false);
    // Unset: softmax for deepseek2, sigmoid for glm4moe.
    const uint64_t gating = file.get_uint_or(key("expert_gating_func"), facts.glm ? 2 : 1);
    gate.sigmoid = gating == 2;
    gate.scale = file.get_double_or(key("expert_weights_scale"), 1.0);
    dense_lead = uint_or("leading_dense_block_count", 0);
  }
  // gpt-oss: windowed layers (il % period < period - 1) and their RoPE base.
  int window = 0, window_period = 2;
  Rope window_rope = rope;
  if (facts.openai) {
    window = uint_or("attention.sliding_window", 0);
    window_period = uint_or("attention.sliding_window_pattern", 2);
    window_rope.base = file.get_double_or(key("rope.freq_base_swa"), rope.base);
    if (window_rope.yarn) {
      const auto dim = [&](double rotations) {
        return n_rot * std::log(n_ctx_orig / (rotations * 2 * std::numbers::pi)) /
               (2 * std::log(window_rope.base));
      };
      window_rope.low = std::max(0.0, std::floor(dim(32)));
      window_rope.high = std::min(static_cast<double>(n_rot - 1), std::ceil(dim(1)));
    }
  }
  if (facts.latent_attention) {
    kv_lora = uint_or("attention.kv_lora_rank", 0);
    // YaRN's magnitude goes into the score scale; the rotation undoes its own correction.
    const double mscale =
        rope.magnitude * (1 + file.get_double_or(key("rope.scaling.yarn_log_multiplier"), 0.0) *
                                  std::log(1 / rope.freq_scale));
    kq_scale = mscale * mscale / std::sqrt(static_cast<double>(head_dim));
    rope.magnitude = 1 / (1 + 0.1 * std::log(1 / rope.freq_scale));
  }

  const Tensor embeddings = read(file, "token_embd.weight");
  const Tensor output_norm = read(file, "output_norm.weight");
  const Tensor output_norm_b = facts.norm_bias ? read(file, "output_norm.bias") : Tensor{};
  const Tensor output =
      file.find_tensor("output.weight") != nullptr ? read(file, "output.weight") : embeddings;
  const Tensor output_b = arch == "phimoe" ? read(file, "output.bias") : Tensor{};
  const int n_vocab = static_cast<int>(embeddings.rows());

  std::vector<Layer> layers(static_cast<size_t>(n_layer));
  for (int il = 0; il < n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    Layer& l = layers[static_cast<size_t>(il)];
    l.attn_norm = read(file, blk + "attn_norm.weight");
    l.ffn_norm = read(file, blk + facts.ffn_norm + ".weight");
    if (facts.norm_bias) {
      l.attn_norm_b = read(file, blk + "attn_norm.bias");
      l.ffn_norm_b = read(file, blk + "ffn_norm.bias");
    }
    if (facts.latent_attention) {
      l.q_a = read(file, blk + "attn_q_a.weight", false);
      if (l.q_a.present) {
        l.q_a_norm = read(file, blk + "attn_q_a_norm.weight");
        l.q_b = read(file, blk + "attn_q_b.weight");
      } else {
        l.wq = read(file, blk + "attn_q.weight");
      }
      l.kv_a = read(file, blk + "attn_kv_a_mqa.weight");
      l.kv_a_norm = read(file, blk + "attn_kv_a_norm.weight");
      l.kv_b = read(file, blk + "attn_kv_b.weight", false);
      if (!l.kv_b.present) {
        l.k_b = read(file, blk + "attn_k_b.weight");
        l.v_b = read(file, blk + "attn_v_b.weight");
      }
    } else {
      if (file.find_tensor(blk + "attn_qkv.weight") != nullptr) {
        // One fused projection: q rows, then k rows, then v rows (the bias likewise).
        const size_t q = static_cast<size_t>(n_head * head_dim);
        const size_t kv = static_cast<size_t>(n_head_kv * head_dim);
        const Tensor qkv = read(file, blk + "attn_qkv.weight");
        l.wq = rows_of(qkv, 0, q), l.wk = rows_of(qkv, q, kv), l.wv = rows_of(qkv, q + kv, kv);
        const Tensor qkv_b = read(file, blk + "attn_qkv.bias", false);
        if (qkv_b.present) {
          l.bq = rows_of(qkv_b, 0, q), l.bk = rows_of(qkv_b, q, kv);
          l.bv = rows_of(qkv_b, q + kv, kv);
        }
      } else {
        l.wq = read(file, blk + "attn_q.weight");
        l.wk = read(file, blk + "attn_k.weight");
        l.wv = read(file, blk + "attn_v.weight");
        l.bq = read(file, blk + "attn_q.bias", false);
        l.bk = read(file, blk + "attn_k.bias", false);
        l.bv = read(file, blk + "attn_v.bias", false);
      }
      // ernie4_5-moe: llama.cpp loads the output bias but never adds it.
      if (!facts.ernie) l.bo = read(file, blk + "attn_output.bias", false);
      if (arch == "olmoe" || arch == "qwen3moe" || facts.glm || facts.qk_norm_after_rope ||
          facts.bailing) {
        l.q_norm = read(file, blk + "attn_q_norm.weight", !facts.glm);
        l.k_norm = read(file, blk + "attn_k_norm.weight", !facts.glm);
      }
      if (facts.openai) {
        l.sinks = read(file, blk + "attn_sinks.weight");
        const bool windowed = window_period == 0 || il % window_period < window_period - 1;
        l.window = windowed ? window : 0;
      }
    }
    l.wo = read(file, blk + "attn_output.weight");
    if (facts.grok) {
      l.attn_out_norm = read(file, blk + "attn_output_norm.weight");
      l.ffn_post_norm = read(file, blk + "layer_output_norm.weight", false);
      if (!l.ffn_post_norm.present) l.ffn_post_norm = read(file, blk + "post_ffw_norm.weight");
      l.dense_gate = read(file, blk + "ffn_gate.weight", false);
      l.dense_up = read(file, blk + "ffn_up.weight", false);
      l.dense_down = read(file, blk + "ffn_down.weight", false);
    }
    l.moe = dense_lead >= 0 ? il >= dense_lead
                            : file.find_tensor(blk + "ffn_gate_inp.weight") != nullptr;
    if (moe_step > 0) l.moe = il >= std::max(dense_lead, 0) && (il + 1) % moe_step == 0;
    if (facts.llama4) {
      l.rotates = (il + 1) % no_rope_step != 0;
      const int pattern = uint_or("attention.sliding_window_pattern", 4);
      if (chunked && (pattern == 0 || il % pattern < pattern - 1)) l.chunk = 8192;
    }
    if (l.moe) {
      l.router = read(file, blk + "ffn_gate_inp.weight");
      l.gate = read(file, blk + "ffn_gate_exps.weight");
      l.up = read(file, blk + "ffn_up_exps.weight");
      l.down = read(file, blk + "ffn_down_exps.weight");
      if (facts.routing_keys || facts.ernie) {
        l.selection_bias = read(file, blk + "exp_probs_b.bias", facts.glm);
      }
      if (facts.openai) {
        l.router_b = read(file, blk + "ffn_gate_inp.bias");
        l.gate_b = read(file, blk + "ffn_gate_exps.bias");
        l.up_b = read(file, blk + "ffn_up_exps.bias");
        l.down_b = read(file, blk + "ffn_down_exps.bias");
      }
      if (arch == "qwen2moe") l.shexp_gate_inp = read(file, blk + "ffn_gate_inp_shexp.weight");
      if (arch == "qwen2moe" || arch == "deepseek2" || facts.glm || facts.qk_norm_after_rope ||
          facts.llama4 || facts.ernie || facts.bailing) {
        const bool required = arch == "qwen2moe" || facts.qk_norm_after_rope || facts.llama4 ||
                              file.get_uint_or(key(facts.ernie ? "expert_shared_feed_forward_length"
                                                               : "expert_shared_count"),
                                               0) > 0;
        l.shexp_gate = read(file, blk + "ffn_gate_shexp.weight", required);
        l.shexp_up = read(file, blk + "ffn_up_shexp.weight", required);
        l.shexp_down = read(file, blk + "ffn_down_shexp.weight", required);
      }
    } else {
      l.gate = read(file, blk + "ffn_gate.weight");
      l.up = read(file, blk + "ffn_up.weight");
      l.down = read(file, blk + "ffn_down.weight");
    }
  }

  const size_t n = tokens.size();
  ReferenceResult result;
  result.n_vocab = n_vocab;
  result.routing.assign(n, std::vector<ReferenceRouting>(static_cast<size_t>(n_layer)));

  std::vector<Vector> hidden(n);
  for (size_t t = 0; t < n; ++t) {
    const double* row =
        &embeddings.values[static_cast<size_t>(tokens[t]) * static_cast<size_t>(n_embd)];
    hidden[t].assign(row, row + n_embd);
    scale(hidden[t], embedding_scale);
  }

  const size_t hd = static_cast<size_t>(head_dim), hdv = static_cast<size_t>(head_dim_v);
  const int group = n_head / n_head_kv;
  for (int il = 0; il < n_layer; ++il) {
    const Layer& l = layers[static_cast<size_t>(il)];
    // Per position: q (n_head x head_dim), k (n_head_kv x head_dim), v (n_head_kv x head_dim_v).
    std::vector<Vector> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      const int pos = static_cast<int>(t);
      const Vector x = block_norm(hidden[t], l.attn_norm, l.attn_norm_b);
      if (facts.latent_attention) {
        const size_t nope = hd - static_cast<size_t>(n_rot);
        if (l.q_a.present) {
          q[t] = multiply(l.q_b, rms_norm(multiply(l.q_a, x), l.q_a_norm, Tensor{}, eps));
        } else {
          q[t] = multiply(l.wq, x);
        }
        for (int h = 0; h < n_head; ++h) rope.apply(q[t], h * hd + nope, pos);
        Vector compressed = multiply(l.kv_a, x);
        const Vector latent =
            rms_norm(compressed, l.kv_a_norm, Tensor{}, eps, 0, static_cast<size_t>(kv_lora));
        rope.apply(compressed, static_cast<size_t>(kv_lora), pos);  // the shared rope key
        k[t].assign(static_cast<size_t>(n_head) * hd, 0.0);
        v[t].assign(static_cast<size_t>(n_head) * hdv, 0.0);
        for (int h = 0; h < n_head; ++h) {
          for (size_t d = 0; d < nope; ++d) {
            double sum = 0;
            for (int r = 0; r < kv_lora; ++r) {
              const double w = l.kv_b.present ? l.kv_b.values[(h * (nope + hdv) + d) * kv_lora + r]
                                              : l.k_b.values[(h * kv_lora + r) * nope + d];
              sum += w * latent[static_cast<size_t>(r)];
            }
            k[t][h * hd + d] = sum;
          }
          for (int d = 0; d < n_rot; ++d) k[t][h * hd + nope + d] = compressed[kv_lora + d];
          for (size_t d = 0; d < hdv; ++d) {
            double sum = 0;
            for (int r = 0; r < kv_lora; ++r) {
              const double w = l.kv_b.present
                                   ? l.kv_b.values[(h * (nope + hdv) + nope + d) * kv_lora + r]
                                   : l.v_b.values[(h * hdv + d) * kv_lora + r];
              sum += w * latent[static_cast<size_t>(r)];
            }
            v[t][h * hdv + d] = sum;
          }
        }
      } else {
        q[t] = multiply(l.wq, x);
        k[t] = multiply(l.wk, x);
        v[t] = multiply(l.wv, x);
        if (l.bq.present) add(q[t], l.bq.values);
        if (l.bk.present) add(k[t], l.bk.values);
        if (l.bv.present) add(v[t], l.bv.values);
        if (clamp_kqv > 0) {  // dbrx
          for (Vector* projection : {&q[t], &k[t], &v[t]}) {
            for (double& value : *projection) value = std::clamp(value, -clamp_kqv, clamp_kqv);
          }
        }
        // Over the whole projection (olmoe) or each head (qwen3moe): the weight's size says.
        const auto norm_qk = [&] {
          const size_t qs = l.q_norm.values.size(), ks = l.k_norm.values.size();
          for (size_t at = 0; at < q[t].size(); at += qs) {
            const Vector y = rms_norm(q[t], l.q_norm, Tensor{}, eps, at, qs);
            std::copy(y.begin(), y.end(), q[t].begin() + static_cast<ptrdiff_t>(at));
          }
          for (size_t at = 0; at < k[t].size(); at += ks) {
            const Vector y = rms_norm(k[t], l.k_norm, Tensor{}, eps, at, ks);
            std::copy(y.begin(), y.end(), k[t].begin() + static_cast<ptrdiff_t>(at));
          }
        };
        if (l.q_norm.present && !facts.qk_norm_after_rope) norm_qk();
        if (!l.rotates) {
          // llama4 NoPE: the query's temperature 1 + 0.1 log(floor((pos + 1) / 8192) + 1).
          if (chunked) scale(q[t], 1 + 0.1 * std::log(std::floor((pos + 1) / 8192.0) + 1));
          continue;
        }
        const Rope& layer_rope = l.window > 0 ? window_rope : l.chunk > 0 ? chunk_rope : rope;
        for (int h = 0; h < n_head; ++h) layer_rope.apply(q[t], h * hd, pos);
        for (int h = 0; h < n_head_kv; ++h) layer_rope.apply(k[t], h * hd, pos);
        if (l.q_norm.present && facts.qk_norm_after_rope) norm_qk();  // hunyuan-moe
        if (l2_qk) {  // llama4: per head, unweighted
          Tensor ones;
          ones.values.assign(hd, 1.0);
          for (size_t at = 0; at < q[t].size(); at += hd) {
            const Vector y = rms_norm(q[t], ones, Tensor{}, eps, at, hd);
            std::copy(y.begin(), y.end(), q[t].begin() + static_cast<ptrdiff_t>(at));
          }
          for (size_t at = 0; at < k[t].size(); at += hd) {
            const Vector y = rms_norm(k[t], ones, Tensor{}, eps, at, hd);
            std::copy(y.begin(), y.end(), k[t].begin() + static_cast<ptrdiff_t>(at));
          }
        }
      }
    }
    for (size_t t = 0; t < n; ++t) {
      Vector attended(static_cast<size_t>(n_head) * hdv, 0.0);
      for (int h = 0; h < n_head; ++h) {
        const size_t kvh = static_cast<size_t>(h / group);
        // Keys j visible from t: causal, and t - j < window where the layer has one.
        const auto window = static_cast<size_t>(l.window);
        size_t first = window > 0 && t + 1 > window ? t + 1 - window : 0;
        if (l.chunk > 0) first = t / static_cast<size_t>(l.chunk) * static_cast<size_t>(l.chunk);
        Vector scores;
        for (size_t j = first; j <= t; ++j) {
          double dot = 0;
          for (size_t d = 0; d < hd; ++d) dot += q[t][h * hd + d] * k[j][kvh * hd + d];
          const double score = dot * kq_scale;
          scores.push_back(attn_softcap > 0 ? attn_softcap * std::tanh(score / attn_softcap)
                                            : score);
        }
        // A sink is one more logit in the softmax whose share goes nowhere.
        if (l.sinks.present) scores.push_back(l.sinks.values[static_cast<size_t>(h)]);
        const Vector p = softmax(scores);
        for (size_t j = first; j <= t; ++j) {
          for (size_t d = 0; d < hdv; ++d)
            attended[h * hdv + d] += p[j - first] * v[j][kvh * hdv + d];
        }
      }
      Vector projected = multiply(l.wo, attended);
      if (l.bo.present) add(projected, l.bo.values);
      if (l.attn_out_norm.present) projected = rms_norm(projected, l.attn_out_norm, Tensor{}, eps);
      scale(projected, residual_scale);
      add(hidden[t], projected);
    }

    // Feed-forward. Routing first for every token (batch rules look at all of them).
    std::vector<Vector> ffn_in(n), router_logits(n);
    for (size_t t = 0; t < n; ++t) {
      ffn_in[t] = block_norm(hidden[t], l.ffn_norm, l.ffn_norm_b);
      if (l.moe) router_logits[t] = multiply(l.router, ffn_in[t]);
      if (l.moe && l.router_b.present) add(router_logits[t], l.router_b.values);
    }
    if (l.moe) {
      ReferenceGate layer_gate = gate;
      layer_gate.selection_bias = l.selection_bias.values;
      const std::vector<ReferenceRouting> routes =
          reference_route_layer(router_logits, il, top_k, layer_gate, options.interventions);
      for (size_t t = 0; t < n; ++t) result.routing[t][static_cast<size_t>(il)] = routes[t];
    }
    for (size_t t = 0; t < n; ++t) {
      const Vector& x = ffn_in[t];
      Vector ffn(static_cast<size_t>(n_embd), 0.0);
      if (!l.moe) {
        ffn = swiglu(l.gate, l.up, l.down, x);
      } else {
        ReferenceRouting& route = result.routing[t][static_cast<size_t>(il)];
        route.input_norm = norm(x);
        route.input_head.assign(x.begin(), x.begin() + std::min<size_t>(x.size(), 16));
        for (size_t j = 0; j < route.experts.size(); ++j) {
          const auto expert = static_cast<size_t>(route.experts[j]);
          // llama4 weighs the expert's input instead of its output.
          Vector input = x;
          if (facts.llama4) scale(input, route.weights[j]);
          const double weight = facts.llama4 ? 1.0 : route.weights[j];
          const Vector y = facts.openai ? clamped_swiglu(l.gate, l.up, l.down, l.gate_b, l.up_b,
                                                         l.down_b, x, expert)
                           : facts.grok ? geglu(l.gate, l.up, l.down, input, expert)
                                        : swiglu(l.gate, l.up, l.down, input, expert);
          route.expert_norms.push_back(norm(y));
          for (size_t i = 0; i < y.size(); ++i) ffn[i] += weight * y[i];
        }
        route.routed_norm = norm(ffn);
        if (l.shexp_gate.present) {
          Vector shared = swiglu(l.shexp_gate, l.shexp_up, l.shexp_down, x);
          if (l.shexp_gate_inp.present) {
            double logit = 0;
            for (size_t i = 0; i < x.size(); ++i) logit += l.shexp_gate_inp.values[i] * x[i];
            scale(shared, 1 / (1 + std::exp(-logit)));
          }
          route.has_shared = true;
          route.shared_norm = norm(shared);
          add(ffn, shared);
        }
        route.output_norm = norm(ffn);
        if (l.dense_up.present) {  // grok-2: (dense + experts) / sqrt(2)
          add(ffn, geglu(l.dense_gate, l.dense_up, l.dense_down, x));
          scale(ffn, std::sqrt(0.5));
        }
      }
      if (l.ffn_post_norm.present) ffn = rms_norm(ffn, l.ffn_post_norm, Tensor{}, eps);
      scale(ffn, residual_scale);
      add(hidden[t], ffn);
    }
  }

  result.logits.resize(n);
  for (size_t t = 0; t < n; ++t) {
    result.logits[t] = multiply(output, block_norm(hidden[t], output_norm, output_norm_b));
    if (output_b.present) add(result.logits[t], output_b.values);
    scale(result.logits[t], 1 / logit_scale);
    if (final_softcap > 0) {
      for (double& logit : result.logits[t])
        logit = final_softcap * std::tanh(logit / final_softcap);
    }
  }
  return result;
}

}  // namespace moe::testing
