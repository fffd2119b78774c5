// The GL compute backend against the CPU backend on generated models of every weight type the
// CPU backend computes with (F32, F16, BF16, F64, the integers, the 32-element block types, the
// K-quants, the IQ and ternary types) and every architecture, with GQA/MQA, biases, tied output
// and dense layers; prefill against token-by-token decode; prompts computed in several chunks
// across KV cache growth; the matmul shader's decoding of every type against the CPU's, bit for
// bit; what it lacks refused by name.
//
// Tolerances: logits within 2e-5 relative (max |gl - cpu| / max |cpu|): both compute in f32
// from the same stored weights, only the order of the additions differs (measured: below 2e-6).
// Chosen experts must be identical, except where the CPU's k-th and (k+1)-th probabilities are
// within 1e-4 of each other (a near-tie can fall either way after an f32 rounding difference);
// those are counted and printed, and at most 1% of the records may be such exemptions.
//
// Runs in CI on Mesa's llvmpipe (EGL without a display, or a hidden GLFW window under Xvfb).
// Where no OpenGL 4.3 context can be had the tests FAIL with the reason: the GL backend is part
// of what CI checks, not optional.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <map>
#include <random>
#include <sstream>

#include "gl_device.hpp"  // the matmul shader itself, for the exact-decoding test
#include "gl_weight_formats.hpp"
#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/gl_backend.hpp"
#include "random_quant.hpp"

namespace {

using moe::GgmlType;
using moe::RandomModelSpec;

constexpr double kLogitTolerance = 2e-5;
constexpr double kTieWindow = 1e-4;

// One GL backend for the whole suite (context creation and shader compilation take a while on
// llvmpipe), created on first use and destroyed before exit (a GL driver torn down by exit()
// first may crash a later context destruction).
std::unique_ptr<moe::GlBackend> suite_backend;
std::string suite_backend_error;
bool suite_backend_tried = false;

class GlBackendEnvironment : public ::testing::Environment {
public:
  void TearDown() override { suite_backend.reset(); }
};
const ::testing::Environment* const gl_environment =
    ::testing::AddGlobalTestEnvironment(new GlBackendEnvironment);

// The suite's backend; nullptr with the reason when it cannot be made.
moe::GlBackend* shared_gl_backend(std::string& why) {
  if (!suite_backend_tried) {
    suite_backend_tried = true;
    try {
      suite_backend = std::make_unique<moe::GlBackend>();
      std::printf("GL backend: %s\n", suite_backend->device_description().c_str());
    } catch (const moe::Error& e) {
      suite_backend_error = e.what();
    }
  }
  why = suite_backend_error;
  return suite_backend.get();
}

#define REQUIRE_GL(backend)                                                     \
  std::string gl_error;                                                         \
  moe::GlBackend* backend = shared_gl_backend(gl_error);                        \
  ASSERT_NE(backend, nullptr) << "the GL backend could not start: " << gl_error \
                              << " (CI runs these tests on Mesa llvmpipe)"

bool is_block_type(GgmlType type) {
  return moe::type_layout(static_cast<uint32_t>(type))->block_size > 1;
}

// An F32 tensor's values as F64, or integers of the type drawn around 0 (small enough that
// the residual stream's squares stay finite in f32).
std::vector<uint8_t> plain_values(GgmlType type, const moe::gguf::TensorInfo& tensor,
                                  std::mt19937_64& rng) {
  const size_t n = static_cast<size_t>(tensor.n_elements);
  const size_t element_bytes = moe::type_layout(static_cast<uint32_t>(type))->block_bytes;
  std::vector<uint8_t> bytes(n * element_bytes);
  const double stddev = type == GgmlType::I8 ? 20 : type == GgmlType::I16 ? 5000 : 50;
  std::normal_distribution<double> normal(0.0, stddev);
  for (size_t i = 0; i < n; ++i) {
    if (type == GgmlType::F64) {
      float value;
      std::memcpy(&value, tensor.data + 4 * i, sizeof value);
      const double wide = value;
      std::memcpy(&bytes[8 * i], &wide, sizeof wide);
      continue;
    }
    const double limit = type == GgmlType::I8 ? 127 : type == GgmlType::I16 ? 32767 : 2147483647;
    const auto value = static_cast<int64_t>(std::clamp(std::round(normal(rng)), -limit, limit));
    std::memcpy(&bytes[element_bytes * i], &value, element_bytes);  // little-endian low bytes
  }
  return bytes;
}

// A random model whose matrices (not the router, kept F32 like converted checkpoints) are
// stored as `type`: random blocks (or plain values) for the types our writer cannot write.
// `keys` are set in the file (settings the spec does not reach).
using Keys = std::vector<std::pair<std::string, moe::gguf::Value>>;

class TypedModelFile {
public:
  TypedModelFile(RandomModelSpec spec, GgmlType type, const Keys& keys = {}) {
    const bool writer_types = type == GgmlType::F32 || type == GgmlType::F16 ||
                              type == GgmlType::BF16 || type == GgmlType::Q8_0;
    spec.weight_type = writer_types ? type : GgmlType::F32;
    path_ = moe::testing::unique_temp_path("gl_backend_" + moe::type_name(type), ".gguf");
    moe::testing::GgufEdit edit;
    edit.set_keys = keys;
    if (writer_types) {
      write(moe::testing::edited_random_model(spec, edit));
      return;
    }
    const std::vector<uint8_t> f32_bytes = moe::build_random_model(spec).to_bytes();
    const moe::gguf::GgufFile f32_file = moe::gguf::GgufFile::parse(f32_bytes);
    std::mt19937_64 rng(spec.seed);
    for (const moe::gguf::TensorInfo& tensor : f32_file.tensors()) {
      if (tensor.dims.size() < 2 || tensor.name.find("ffn_gate_inp") != std::string::npos) continue;
      const double stddev = tensor.name == "token_embd.weight"
                                ? 1.0
                                : 1.0 / std::sqrt(static_cast<double>(tensor.dims[0]));
      edit.replace_tensors[tensor.name] = {
          type, tensor.dims,
          is_block_type(type)
              ? moe::testing::random_quantized(type, tensor.n_elements, stddev, rng)
              : plain_values(type, tensor, rng)};
    }
    write(moe::testing::edited_gguf(f32_file, edit));
  }
  ~TypedModelFile() { std::filesystem::remove(path_); }
  std::shared_ptr<const moe::Model> load() const { return moe::Model::load(path_); }

private:
  void write(const std::vector<uint8_t>& bytes) {
    moe::gguf::GgufFile::parse(bytes);  // sanity: the edited file parses
    FILE* out = std::fopen(path_.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), out);
    std::fclose(out);
  }

  std::filesystem::path path_;
};

struct GlCase {
  std::string label;
  GgmlType type;
  RandomModelSpec spec;
  Keys keys = {};
};

void PrintTo(const GlCase& gl_case, std::ostream* out) { *out << gl_case.label; }

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::vector<GlCase> gl_cases() {
  std::vector<GlCase> cases;
  RandomModelSpec small;  // 32-element blocks
  small.n_embd = 64, small.n_layer = 2, small.n_head = 4, small.n_head_kv = 2;
  small.n_expert = 8, small.n_expert_used = 2, small.n_ff_exp = 64;
  RandomModelSpec k_quant = small;  // 256-element super-blocks
  k_quant.n_embd = 256, k_quant.n_head = 4, k_quant.n_head_kv = 1, k_quant.n_ff_exp = 256;
  k_quant.n_ff = 256;
  {
    RandomModelSpec s = small;
    s.seed = 21;
    cases.push_back({"f32_e8_top2_gqa", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.n_layer = 3, s.dense_layers = {1}, s.n_ff = 96, s.n_head_kv = 1, s.seed = 22;
    cases.push_back({"f16_mixed_dense_mqa", GgmlType::F16, s});
  }
  {
    RandomModelSpec s = small;
    s.n_head = 8, s.n_head_kv = 4, s.n_expert = 16, s.n_expert_used = 4, s.n_ff_exp = 32;
    s.attention_biases = true, s.tie_output = true, s.seed = 23;
    cases.push_back({"bf16_e16_top4_biases_tied", GgmlType::BF16, s});
  }
  {
    RandomModelSpec s = small;
    s.n_expert = 64, s.n_expert_used = 8, s.n_ff_exp = 32, s.n_head_kv = 4, s.seed = 24;
    cases.push_back({"q8_0_e64_top8", GgmlType::Q8_0, s});
  }
  {
    RandomModelSpec s = small;
    s.n_embd = 96, s.n_head = 3, s.n_head_kv = 1, s.seed = 25;  // odd block count per row
    cases.push_back({"q4_0_e8_top2", GgmlType::Q4_0, s});
  }
  // Issue 18: q/k norms over the whole projection (olmoe: softmax without renormalizing the
  // top-k) and over each head (qwen3moe).
  {
    RandomModelSpec s = small;
    s.architecture = "olmoe", s.seed = 29;
    cases.push_back({"olmoe_f32_qk_norm", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "olmoe", s.n_head_kv = 4, s.seed = 30;
    cases.push_back({"olmoe_q8_0_qk_norm", GgmlType::Q8_0, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "qwen3moe", s.n_head = 8, s.n_head_kv = 2, s.head_dim = 16, s.seed = 31;
    cases.push_back({"qwen3moe_f16_head_norm", GgmlType::F16, s});
  }
  // Shared experts: qwen2moe's sigmoid-gated one (with q/k/v biases).
  {
    RandomModelSpec s = small;
    s.architecture = "qwen2moe", s.n_ff_shexp = 96, s.seed = 33;
    cases.push_back({"qwen2moe_f32_shared_expert", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "qwen2moe", s.seed = 34;
    cases.push_back({"qwen2moe_q4_0_shared_expert", GgmlType::Q4_0, s});
  }
  // RoPE scaling: the angles come from the CPU backend's RopeParams.
  {
    RandomModelSpec s = small;
    s.rope_scaling = "linear", s.rope_scaling_factor = 4, s.seed = 35;
    cases.push_back({"f32_rope_linear", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.rope_scaling = "yarn", s.rope_scaling_factor = 4, s.rope_n_ctx_orig = 16, s.seed = 36;
    cases.push_back({"f16_rope_yarn", GgmlType::F16, s});
  }
  // 2025-26 architectures whose every step the shaders have: ERNIE 4.5 (leading dense layers, a
  // shared expert, a selection bias) and Ling 2.0 (per-head q/k norms, partial RoPE, groups).
  {
    RandomModelSpec s = small;
    s.architecture = "ernie4_5-moe", s.seed = 37;
    cases.push_back({"ernie4_5_moe_f32", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "bailingmoe2", s.seed = 38;
    cases.push_back({"bailingmoe2_f32", GgmlType::F32, s});
  }
  {  // GLM-4.5: leading dense layer, shared expert, sigmoid gates with a selection bias
    RandomModelSpec s = small;
    s.architecture = "glm4moe", s.n_layer = 3, s.dense_layers = {0}, s.seed = 39;
    cases.push_back({"glm4moe_q8_0", GgmlType::Q8_0, s});
  }
  // Granite's multipliers: embedding, residual, logit and attention scale (not 1/sqrt(head)).
  {
    RandomModelSpec s = small;
    s.architecture = "granitemoe", s.seed = 32;
    s.embedding_scale = 12, s.residual_scale = 0.22f, s.logit_scale = 8, s.attention_scale = 0.0078125f;
    cases.push_back({"granitemoe_q8_0_multipliers", GgmlType::Q8_0, s});
  }
  {  // with biases: the residual multiplier scales the output projection's bias too
    RandomModelSpec s = small;
    s.architecture = "granitemoe", s.attention_biases = true, s.seed = 53;
    cases.push_back({"granitemoe_f32_multipliers_biases", GgmlType::F32, s});
  }
  // Norm biases (phimoe: RMSNorm with biases, biases on every projection and the logits) and
  // LayerNorm with dbrx's clamped q/k/v (a clamp of 0.5 cuts many of the random projections).
  {
    RandomModelSpec s = small;
    s.architecture = "phimoe", s.seed = 40;
    cases.push_back({"phimoe_f32_norm_biases", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "dbrx", s.clamp_kqv = 0.5f, s.seed = 41;
    cases.push_back({"dbrx_q8_0_layer_norm_clamp", GgmlType::Q8_0, s});
  }
  // q/k norms after RoPE (hunyuan-moe, with its ungated shared expert) and Llama 4: MoE every 2nd
  // layer with a shared expert, sigmoid top-1 weighting the expert's input, L2 q/k norms, a NoPE
  // layer (3) and chunked layers rotating with their own base (rope.freq_base_swa). Its chunks
  // (8192 positions) and the NoPE temperature (1 below position 8191) stay beyond these prompts.
  {
    RandomModelSpec s = small;
    s.architecture = "hunyuan-moe", s.n_expert = 16, s.n_expert_used = 4, s.n_ff_shexp = 96;
    s.seed = 42;
    cases.push_back({"hunyuan_moe_f32", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "llama4", s.n_layer = 4, s.moe_layer_step = 2, s.dense_layers = {0, 2};
    s.n_expert = 16, s.n_expert_used = 1, s.n_ff = 64, s.rope_base_swa = 5000, s.seed = 43;
    cases.push_back({"llama4_f16_interleaved_nope", GgmlType::F16, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "llama4", s.n_layer = 4, s.n_expert_used = 3, s.seed = 44;
    cases.push_back({"llama4_q8_0_top3", GgmlType::Q8_0, s});
  }
  // grok: llama.cpp's default multipliers (embeddings x78, attention scale 0.088), attention
  // scores soft-capped at 30, norms of the attention and FFN outputs, GeGLU experts (ggml's f16
  // GELU table); Grok-2's dense GeGLU FFN beside the experts and soft-capped logits.
  {
    RandomModelSpec s = small;
    s.architecture = "grok", s.seed = 45;
    cases.push_back({"grok1_f32", GgmlType::F32, s});
  }
  {  // a soft cap that bites: the random scores are mostly below 1
    RandomModelSpec s = small;
    s.architecture = "grok", s.seed = 47;
    cases.push_back({"grok1_f16_attention_softcap_0_5", GgmlType::F16, s,
                     {{"grok.attn_logit_softcapping", moe::gguf::Value::f32(0.5f)}}});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "grok", s.dense_ffn_beside_experts = true, s.n_ff = 96, s.final_softcap = 2;
    s.seed = 46;
    cases.push_back({"grok2_q8_0_dense_beside_softcap", GgmlType::Q8_0, s});
  }
  // gpt-oss: attention sinks, even layers in a 4-position sliding window rotating with their own
  // base, biases on q/k/v, the output projection, the router and every expert, the clamped
  // SwiGLU, the softmax over the k chosen logits; YaRN as in the released files.
  {
    RandomModelSpec s = small;
    s.architecture = "gpt-oss", s.rope_base_swa = 2000, s.seed = 48;
    cases.push_back({"gpt_oss_f32_sinks_window", GgmlType::F32, s});
  }
  {
    RandomModelSpec s = small;
    s.architecture = "gpt-oss", s.n_expert = 16, s.n_expert_used = 4, s.sliding_window = 8;
    s.rope_scaling = "yarn", s.rope_scaling_factor = 4, s.rope_n_ctx_orig = 16, s.seed = 49;
    cases.push_back({"gpt_oss_q8_0_yarn_top4", GgmlType::Q8_0, s});
  }
  // deepseek2's multi-head latent attention: V2-Lite's shape (plain attn_q, a leading dense
  // layer, two shared experts, YaRN with its score scale) and V3's (low-rank q with its norm,
  // sigmoid gates with a selection bias, group-limited routing, the split attn_k_b / attn_v_b
  // layout).
  RandomModelSpec latent = small;
  latent.architecture = "deepseek2", latent.n_layer = 3, latent.dense_layers = {0};
  latent.head_dim = 24, latent.n_rot = 8, latent.head_dim_v = 16, latent.kv_lora_rank = 32;
  {
    RandomModelSpec s = latent;
    s.n_expert_shared = 2, s.expert_weights_scale = 1.5f;
    s.rope_scaling = "yarn", s.rope_scaling_factor = 4, s.rope_n_ctx_orig = 16;
    s.yarn_log_multiplier = 0.1f, s.seed = 50;
    cases.push_back({"deepseek2_lite_q8_0_yarn", GgmlType::Q8_0, s});
  }
  {
    RandomModelSpec s = latent;
    s.q_lora_rank = 32, s.n_expert = 16, s.n_expert_used = 4, s.n_expert_shared = 1;
    s.sigmoid_gating = true, s.selection_bias = true, s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f, s.split_kv_b = true, s.seed = 51;
    s.n_expert_groups = 4, s.n_expert_groups_used = 2;  // top-4 within the best 2 of 4 groups
    cases.push_back({"deepseek2_v3_f16_q_lora_split_kv_b", GgmlType::F16, s});
  }
  {
    RandomModelSpec s = k_quant;
    s.seed = 26;
    cases.push_back({"q4_k_e8_top2", GgmlType::Q4_K, s});
  }
  {
    RandomModelSpec s = k_quant;
    s.n_layer = 3, s.dense_layers = {0}, s.seed = 27;
    cases.push_back({"q5_k_dense_first", GgmlType::Q5_K, s});
  }
  {
    RandomModelSpec s = k_quant;
    s.n_expert = 16, s.n_expert_used = 3, s.attention_biases = true, s.seed = 28;
    cases.push_back({"q6_k_e16_top3_biases", GgmlType::Q6_K, s});
  }
  return cases;
}

// Every other type the CPU backend runs, one model each: the 32-element block types with three
// blocks per row (MXFP4's 17-byte blocks then start at odd bytes), the 256-element super-block
// types on the K-quant shape. Prefill only: decoding one token runs the same decoder.
std::vector<GlCase> gl_type_cases() {
  std::vector<GlCase> cases;
  RandomModelSpec small;
  small.n_embd = 96, small.n_layer = 2, small.n_head = 3, small.n_head_kv = 1;
  small.n_expert = 8, small.n_expert_used = 2, small.n_ff_exp = 64;
  RandomModelSpec k_quant = small;
  k_quant.n_embd = 256, k_quant.n_head = 4, k_quant.n_ff_exp = 256, k_quant.n_ff = 256;
  uint64_t seed = 40;
  for (GgmlType type : {GgmlType::F64, GgmlType::I8, GgmlType::I16, GgmlType::I32, GgmlType::Q4_1,
                        GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::IQ4_NL, GgmlType::MXFP4}) {
    RandomModelSpec s = small;
    s.seed = seed++;
    cases.push_back({lowercase(moe::type_name(type)), type, s});
  }
  for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q8_K, GgmlType::IQ4_XS,
                        GgmlType::IQ3_XXS, GgmlType::IQ3_S, GgmlType::IQ2_XXS, GgmlType::IQ2_XS,
                        GgmlType::IQ2_S, GgmlType::IQ1_S, GgmlType::IQ1_M, GgmlType::TQ1_0,
                        GgmlType::TQ2_0}) {
    RandomModelSpec s = k_quant;
    s.seed = seed++;
    cases.push_back({lowercase(moe::type_name(type)), type, s});
  }
  return cases;
}

moe::RoutingTrace empty_trace(const moe::ModelConfig& config) {
  return moe::RoutingTrace(config.n_layer, config.n_expert, config.n_expert_used,
                           config.moe_layers());
}

// The CPU backend in its exact mode (quantized weights converted to f32, no 8-bit activations),
// which computes the same function as the GL backend.
moe::CpuBackend exact_cpu_backend() {
  moe::CpuBackendOptions options;
  options.n_threads = 2;
  options.quantized_activations = false;
  return moe::CpuBackend(options);
}

std::vector<int32_t> random_tokens(int n, int n_vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> token(0, n_vocab - 1);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int32_t& id : tokens) id = token(rng);
  return tokens;
}

struct TraceComparison {
  int records = 0;
  int near_ties = 0;
  std::string first_mismatch;
};

// Chosen experts of `actual` against `expected` (the CPU's), near-ties exempted and counted;
// gate weights of identical choices within 1e-3.
TraceComparison compare_traces(const moe::RoutingTrace& actual, const moe::RoutingTrace& expected,
                               const std::vector<int>& moe_layers, int n_tokens) {
  TraceComparison result;
  for (int t = 0; t < n_tokens; ++t) {
    for (int layer : moe_layers) {
      if (!expected.has(t, layer)) continue;
      ++result.records;
      const moe::RoutingRecord& want = expected.at(t, layer);
      if (!actual.has(t, layer)) {
        result.first_mismatch = "no record at token " + std::to_string(t);
        return result;
      }
      const moe::RoutingRecord& got = actual.at(t, layer);
      // The layer's values (Inside the MoE layer) as the CPU records them, shared experts too.
      if (got.values.available && want.values.available && got.experts == want.experts) {
        const auto close = [](float a, float b) { return std::abs(a - b) <= 1e-4f * std::max(1.0f, std::abs(b)); };
        if ((got.values.has_shared != want.values.has_shared ||
             !close(got.values.shared_norm, want.values.shared_norm) ||
             !close(got.values.output_norm, want.values.output_norm)) &&
            result.first_mismatch.empty())
          result.first_mismatch = "layer values at token " + std::to_string(t);
      }
      if (got.experts == want.experts) {
        for (size_t j = 0; j < got.weights.size(); ++j) {
          if (std::abs(got.weights[j] - want.weights[j]) > 1e-3 && result.first_mismatch.empty())
            result.first_mismatch = "gate weight at token " + std::to_string(t);
        }
        continue;
      }
      std::vector<float> sorted = want.probs;
      std::sort(sorted.begin(), sorted.end(), std::greater<>());
      const size_t k = want.experts.size();
      if (k < sorted.size() && sorted[k - 1] - sorted[k] < kTieWindow) {
        ++result.near_ties;
      } else if (result.first_mismatch.empty()) {
        result.first_mismatch =
            "experts differ at token " + std::to_string(t) + ", layer " + std::to_string(layer);
      }
    }
  }
  return result;
}

// A 40-token prompt on the GL backend against the exact CPU backend: logits and routing.
void expect_prefill_matches_cpu(moe::GlBackend* gl, const GlCase& gl_case) {
  const TypedModelFile file(gl_case.spec, gl_case.type, gl_case.keys);
  const auto model = file.load();
  const int n = 40;
  const std::vector<int32_t> tokens = random_tokens(n, model->config().n_vocab, 7);

  moe::CpuBackend cpu = exact_cpu_backend();
  auto cpu_state = cpu.new_state(model, n);
  std::vector<float> cpu_logits;
  moe::RoutingTrace cpu_trace = empty_trace(model->config());
  cpu.forward(*cpu_state, tokens, 0, moe::LogitsMode::All, cpu_logits, &cpu_trace);

  auto gl_state = gl->new_state(model, n);
  std::vector<float> gl_logits;
  moe::RoutingTrace gl_trace = empty_trace(model->config());
  gl->forward(*gl_state, tokens, 0, moe::LogitsMode::All, gl_logits, &gl_trace);

  ASSERT_EQ(gl_logits.size(), cpu_logits.size());
  for (float v : gl_logits) ASSERT_TRUE(std::isfinite(v));
  ASSERT_GT(*std::max_element(cpu_logits.begin(), cpu_logits.end()), 0.0f) << "degenerate logits";
  const double difference = moe::testing::max_relative_difference(gl_logits, cpu_logits);
  EXPECT_LT(difference, kLogitTolerance) << gl_case.label;
  const TraceComparison traces =
      compare_traces(gl_trace, cpu_trace, model->config().moe_layers(), n);
  EXPECT_TRUE(traces.first_mismatch.empty()) << traces.first_mismatch;
  EXPECT_LE(traces.near_ties * 100, traces.records) << traces.near_ties << " near-ties";
  std::printf("%s: logits max relative difference %.2e, %d routing records, %d near-ties\n",
              gl_case.label.c_str(), difference, traces.records, traces.near_ties);
  EXPECT_EQ(gl_state->n_filled(), n);
}

class GlVsCpu : public ::testing::TestWithParam<GlCase> {};

TEST_P(GlVsCpu, PrefillMatchesCpuBackend) {
  REQUIRE_GL(gl);
  expect_prefill_matches_cpu(gl, GetParam());
}

TEST_P(GlVsCpu, DecodeTokenByTokenMatchesPrefill) {
  REQUIRE_GL(gl);
  const GlCase& gl_case = GetParam();
  const TypedModelFile file(gl_case.spec, gl_case.type, gl_case.keys);
  const auto model = file.load();
  const int n = 12;
  const std::vector<int32_t> tokens = random_tokens(n, model->config().n_vocab, 8);

  // Read-backs per forward call: the logits, and the trace buffer once when a trace is taken
  // of a model with MoE layers (routing, grouping and the trace's values stay on the GPU).
  const long traced_downloads = model->config().moe_layers().empty() ? 1 : 2;
  const auto downloads = [&] { return gl->routing_counts().downloads; };
  auto prefill_state = gl->new_state(model, n);
  std::vector<float> prefill_logits;
  moe::RoutingTrace prefill_trace = empty_trace(model->config());
  long before = downloads();
  gl->forward(*prefill_state, tokens, 0, moe::LogitsMode::All, prefill_logits, &prefill_trace);
  EXPECT_EQ(downloads() - before, traced_downloads);
  before = downloads();
  std::vector<float> untraced_logits;
  gl->forward(*prefill_state, tokens, 0, moe::LogitsMode::All, untraced_logits, nullptr);
  EXPECT_EQ(downloads() - before, 1);
  EXPECT_EQ(untraced_logits, prefill_logits);

  auto decode_state = gl->new_state(model, n);
  moe::RoutingTrace decode_trace = empty_trace(model->config());
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  for (int t = 0; t < n; ++t) {
    std::vector<float> logits;
    before = downloads();
    gl->forward(*decode_state, std::span(tokens).subspan(static_cast<size_t>(t), 1), t,
                moe::LogitsMode::Last, logits, &decode_trace);
    EXPECT_EQ(downloads() - before, traced_downloads) << "position " << t;
    ASSERT_EQ(logits.size(), n_vocab);
    const std::span<const float> expected(prefill_logits.data() + static_cast<size_t>(t) * n_vocab,
                                          n_vocab);
    EXPECT_LT(moe::testing::max_relative_difference(logits, expected), kLogitTolerance)
        << "position " << t;
  }
  const TraceComparison traces =
      compare_traces(decode_trace, prefill_trace, model->config().moe_layers(), n);
  EXPECT_TRUE(traces.first_mismatch.empty()) << traces.first_mismatch;
}

// Fused kernels (the block norms inside the next matmul, the gated activation inside the
// [gate | up] matmul, decode's expert mix inside the down matmul) against every step dispatched
// on its own: the same routing, logits within float rounding, and fewer dispatches on every
// architecture; for plain llama layers exactly as many fewer as there are fused steps.
TEST_P(GlVsCpu, FusedKernelsMatchUnfusedWithFewerDispatches) {
  REQUIRE_GL(gl);
  const GlCase& gl_case = GetParam();
  const TypedModelFile file(gl_case.spec, gl_case.type, gl_case.keys);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  const int n = 6;
  const std::vector<int32_t> tokens = random_tokens(n, config.n_vocab, 9);
  struct Run {
    std::vector<float> prefill_logits, decode_logits;
    moe::RoutingTrace prefill_trace, decode_trace;
    long prefill_dispatches = 0, decode_dispatches = 0;
  };
  const auto run = [&](bool fused) {
    gl->set_kernel_fusion(fused);
    Run r{{}, {}, empty_trace(config), empty_trace(config)};
    const auto dispatches = [&] { return gl->routing_counts().dispatches; };
    auto prefill_state = gl->new_state(model, n);
    long before = dispatches();
    gl->forward(*prefill_state, tokens, 0, moe::LogitsMode::All, r.prefill_logits,
                &r.prefill_trace);
    r.prefill_dispatches = dispatches() - before;
    auto decode_state = gl->new_state(model, n);
    for (int t = 0; t < n; ++t) {
      std::vector<float> logits;
      before = dispatches();
      gl->forward(*decode_state, std::span(tokens).subspan(static_cast<size_t>(t), 1), t,
                  moe::LogitsMode::Last, logits, &r.decode_trace);
      if (t == n - 1) r.decode_dispatches = dispatches() - before;
      r.decode_logits.insert(r.decode_logits.end(), logits.begin(), logits.end());
    }
    return r;
  };
  const Run unfused = run(false);
  const Run fused = run(true);
  EXPECT_LT(moe::testing::max_relative_difference(fused.prefill_logits, unfused.prefill_logits),
            kLogitTolerance);
  EXPECT_LT(moe::testing::max_relative_difference(fused.decode_logits, unfused.decode_logits),
            kLogitTolerance);
  for (const auto& [a, b] : {std::pair(&fused.prefill_trace, &unfused.prefill_trace),
                             std::pair(&fused.decode_trace, &unfused.decode_trace)}) {
    const TraceComparison traces = compare_traces(*a, *b, config.moe_layers(), n);
    EXPECT_TRUE(traces.first_mismatch.empty()) << traces.first_mismatch;
  }
  const long prefill_saved = unfused.prefill_dispatches - fused.prefill_dispatches;
  const long decode_saved = unfused.decode_dispatches - fused.decode_dispatches;
  EXPECT_GT(prefill_saved, 0);
  EXPECT_GE(decode_saved, prefill_saved);  // equal where down matrices have biases (gpt-oss)
  if (gl_case.spec.architecture == "llama" && !gl_case.spec.attention_biases) {
    // Per layer: both block norms (inside the first matmul after them; the driver must allow
    // 10 storage buffers, llvmpipe allows 16) and the FFN's activation; at decode also the mix.
    const auto n_moe = static_cast<long>(config.moe_layers().size());
    EXPECT_EQ(prefill_saved, 3 * config.n_layer);
    EXPECT_EQ(decode_saved, 3 * config.n_layer + n_moe);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, GlVsCpu, ::testing::ValuesIn(gl_cases()),
                         [](const auto& info) { return info.param.label; });

class GlTypeVsCpu : public ::testing::TestWithParam<GlCase> {};

TEST_P(GlTypeVsCpu, PrefillMatchesCpuBackend) {
  REQUIRE_GL(gl);
  expect_prefill_matches_cpu(gl, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Types, GlTypeVsCpu, ::testing::ValuesIn(gl_type_cases()),
                         [](const auto& info) { return info.param.label; });

// A long prompt in uneven chunks, past the KV cache's first allocation (64 positions), then a
// recompute from the middle: the last logits equal the CPU backend's for the whole prompt.
// A second backend in the process (the app switching backends, a test's own) shares the EGL
// display with the first: destroying it must leave the first one computing.
TEST(GlBackend, DestroyingAnotherBackendLeavesThisOneWorking) {
  REQUIRE_GL(gl);
  RandomModelSpec spec;
  spec.n_embd = 64, spec.n_layer = 1, spec.n_head = 4, spec.n_head_kv = 2, spec.n_expert = 4;
  spec.n_expert_used = 2, spec.n_ff_exp = 64, spec.seed = 5;
  const TypedModelFile file(spec, GgmlType::F32);
  const auto model = file.load();
  const std::vector<int32_t> tokens = random_tokens(12, model->config().n_vocab, 3);
  const auto logits_of = [&](moe::GlBackend& backend) {
    auto state = backend.new_state(model, 16);
    std::vector<float> logits;
    backend.forward(*state, tokens, 0, moe::LogitsMode::Last, logits, nullptr);
    return logits;
  };
  const std::vector<float> before = logits_of(*gl);
  {
    moe::GlBackend other;
    EXPECT_EQ(logits_of(other), before);
  }
  EXPECT_EQ(logits_of(*gl), before);
}

TEST(GlBackend, ChunkedPrefillAcrossCacheGrowthMatchesCpu) {
  REQUIRE_GL(gl);
  RandomModelSpec spec;
  spec.n_embd = 64, spec.n_layer = 2, spec.n_head = 4, spec.n_head_kv = 2, spec.n_expert = 8;
  spec.n_expert_used = 2, spec.n_ff_exp = 64, spec.seed = 31;
  const TypedModelFile file(spec, GgmlType::F16);
  const auto model = file.load();
  const int n = 300;  // queries that see more than four of attention.comp's 64-key blocks
  const std::vector<int32_t> tokens = random_tokens(n, model->config().n_vocab, 9);

  moe::CpuBackend cpu = exact_cpu_backend();
  auto cpu_state = cpu.new_state(model, 512);
  std::vector<float> cpu_logits;
  cpu.forward(*cpu_state, tokens, 0, moe::LogitsMode::Last, cpu_logits, nullptr);

  auto gl_state = gl->new_state(model, 512);
  std::vector<float> gl_logits;
  moe::RoutingTrace trace = empty_trace(model->config());
  int pos = 0;
  for (int chunk : {5, 60, 1, 70, 14, 150}) {
    gl->forward(*gl_state,
                std::span(tokens).subspan(static_cast<size_t>(pos), static_cast<size_t>(chunk)),
                pos, moe::LogitsMode::Last, gl_logits, &trace);
    pos += chunk;
  }
  ASSERT_EQ(pos, n);
  EXPECT_LT(moe::testing::max_relative_difference(gl_logits, cpu_logits), kLogitTolerance);
  EXPECT_EQ(trace.n_tokens(), n);

  // Recompute from position 100 (the cache prefix before it is kept).
  gl->forward(*gl_state, std::span(tokens).subspan(100), 100, moe::LogitsMode::Last, gl_logits,
              nullptr);
  EXPECT_LT(moe::testing::max_relative_difference(gl_logits, cpu_logits), kLogitTolerance);
}

TEST(GlBackend, RejectsBadCallsWithClearErrors) {
  REQUIRE_GL(gl);
  RandomModelSpec spec;
  spec.n_embd = 64, spec.n_head = 4, spec.n_head_kv = 2, spec.seed = 32;
  const TypedModelFile file(spec, GgmlType::F32);
  const auto model = file.load();
  auto state = gl->new_state(model, 8);
  std::vector<float> logits;
  const std::vector<int32_t> too_many(9, 1);
  EXPECT_THROW(gl->forward(*state, too_many, 0, moe::LogitsMode::Last, logits, nullptr),
               moe::Error);
  const std::vector<int32_t> bad_id = {1, 100000};
  EXPECT_THROW(gl->forward(*state, bad_id, 0, moe::LogitsMode::Last, logits, nullptr), moe::Error);
  EXPECT_EQ(state->n_filled(), 0);
  moe::CpuBackend cpu(moe::CpuBackendOptions{1});
  auto cpu_state = cpu.new_state(model, 8);
  const std::vector<int32_t> one = {1};
  EXPECT_THROW(gl->forward(*cpu_state, one, 0, moe::LogitsMode::Last, logits, nullptr), moe::Error);
  EXPECT_THROW(gl->new_state(model, 0), moe::Error);
}

// Every type the CPU backend computes with (moe::is_supported_for_compute) runs on the GL
// backend, so each has a model above checked against the CPU; a type added to the CPU side
// fails here until the GL backend reads it (or refuses it by name, with a test of its own).
TEST(GlBackend, EveryTypeTheCpuComputesWithHasAGlCase) {
  std::vector<GlCase> cases = gl_cases();
  for (const GlCase& gl_case : gl_type_cases()) cases.push_back(gl_case);
  int n_types = 0;
  for (uint32_t id = 0; id < 64; ++id) {
    const auto type = static_cast<GgmlType>(id);
    if (!moe::type_layout(id) || !moe::is_supported_for_compute(type)) continue;
    ++n_types;
    const bool covered = std::any_of(cases.begin(), cases.end(), [&](const GlCase& gl_case) {
      return gl_case.type == type;
    });
    EXPECT_TRUE(covered) << moe::type_name(id) << " has no GL test case";
  }
  EXPECT_EQ(n_types, 30);  // F32 ... TQ2_0: all but Q8_1 and I64
}

// The matmul shader decodes every type to the floats of the CPU's dequantize_row, bit for bit:
// times one-hot input rows its output is each weight exactly (a product with 1, then sums with
// zeros). Random blocks (every code) of each type, 8 rows of 256 elements.
TEST(GlBackend, MatmulDecodesEveryTypeToTheCpusFloats) {
  REQUIRE_GL(gl);
  // A device of its own, alone: destroying an EGL context also ends its display for every
  // other context on it (gl_context.cpp), so the suite's backend goes first and the next test
  // that needs it makes it again.
  suite_backend.reset();
  suite_backend_tried = false;
  moe::gl::Device device;
  constexpr unsigned kRows = 8, kCols = 256;  // 256: a whole number of blocks of every type
  std::vector<float> one_hot(static_cast<size_t>(kCols) * kCols, 0.0f);
  for (unsigned t = 0; t < kCols; ++t) one_hot[static_cast<size_t>(t) * kCols + t] = 1.0f;
  const moe::gl::Buffer input(one_hot.data(), one_hot.size() * sizeof(float));
  moe::gl::Buffer output;
  output.reserve(static_cast<size_t>(kRows) * kCols * sizeof(float));
  std::mt19937_64 rng(41);
  for (GgmlType type : moe::gl::matmul_types()) {
    const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
    const unsigned row_bytes = kCols / layout.block_size * layout.block_bytes;
    std::vector<uint8_t> bytes;
    if (is_block_type(type)) {
      bytes = moe::testing::random_quantized(type, kRows * kCols, 1.0, rng);
    } else {  // plain types: every bit pattern of the integers, finite floats
      bytes.resize(static_cast<size_t>(kRows) * row_bytes);
      for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(rng());
      const size_t element_bytes = layout.block_bytes;
      const bool is_float = type == GgmlType::F32 || type == GgmlType::F16 ||
                            type == GgmlType::BF16 || type == GgmlType::F64;
      for (size_t at = 0; at < bytes.size() && is_float; at += element_bytes)
        bytes[at + element_bytes - 1] &= 0xbf;  // exponent below the top: no inf or NaN
    }
    std::vector<float> expected(static_cast<size_t>(kRows) * kCols);
    moe::dequantize_row(type, bytes.data(), expected.data(), kRows * kCols);

    const moe::gl::Buffer weights(bytes.data(), bytes.size());
    moe::gl::Program& program = device.matmul_program(type);
    program.use();
    const std::pair<const char*, unsigned> uniforms[] = {
        {"u_rows", kRows},          {"u_cols", kCols},          {"u_row_bytes", row_bytes},
        {"u_matrix_bytes", 0},      {"u_n_slots", kCols},       {"u_in_stride", kCols},
        {"u_out_stride", kRows},    {"u_out_col", 0},           {"u_accumulate", 0},
        {"u_grouped", 0},           {"u_gather", 0}};
    for (const auto& [name, value] : uniforms) program.set(name, value);
    program.set("u_alpha", 1.0f);
    moe::gl::bind(0, weights);
    moe::gl::bind(1, input);
    moe::gl::bind(2, output);
    moe::gl::bind(3, device.dummy);
    moe::gl::bind(4, device.dummy);
    moe::gl::dispatch(kRows / 4, kCols / 8);  // matmul.comp's ROWS_PER_GROUP and TILE
    std::vector<float> got(expected.size());
    output.download(got.data(), got.size() * sizeof(float));

    int differing = 0;
    std::string first;
    for (unsigned r = 0; r < kRows; ++r) {
      for (unsigned c = 0; c < kCols; ++c) {
        const float want = expected[static_cast<size_t>(r) * kCols + c];
        const float have = got[static_cast<size_t>(c) * kRows + r];  // output row c, column r
        // GLSL lets a driver flush subnormal floats to zero (NVIDIA's does); random bit
        // patterns make some, a trained weight that small is as good as zero.
        if (have == want || (have == 0.0f && std::fpclassify(want) == FP_SUBNORMAL)) continue;
        if (differing++ == 0) {
          std::ostringstream where;
          where << "row " << r << ", element " << c << ": GL " << std::setprecision(9) << have
                << ", CPU " << want;
          first = where.str();
        }
      }
    }
    EXPECT_EQ(differing, 0) << moe::type_name(type) << ", first at " << first;
  }
}

// Features the GL shaders do not implement are refused by name (never silently skipped).
TEST(GlBackend, UnimplementedFeaturesAreRefusedByName) {
  REQUIRE_GL(gl);
  struct Refusal {
    std::string label;
    RandomModelSpec spec;
    std::string feature;
  };
  std::vector<Refusal> refusals;
  {
    RandomModelSpec s;
    s.n_head = 4, s.n_head_kv = 2, s.head_dim = 18, s.seed = 35;
    refusals.push_back({"18-wide heads", s, "a head size that is not a multiple of 4"});
  }
  {
    RandomModelSpec s;
    s.n_head = 1, s.n_head_kv = 1, s.head_dim = 288, s.seed = 35;
    refusals.push_back({"288-wide heads", s, "heads wider than 256"});
  }
  for (const Refusal& refusal : refusals) {
    const TypedModelFile file(refusal.spec, GgmlType::F32);
    const auto model = file.load();
    try {
      gl->new_state(model, 8);
      ADD_FAILURE() << refusal.label << " was accepted";
    } catch (const moe::Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(refusal.feature), std::string::npos) << message;
      EXPECT_NE(message.find("--backend cpu"), std::string::npos) << message;
    }
  }
}

// The GL backend refuses a model by the capability it lacks, named in the message, not by the
// architecture's name: an architecture other than llama that needs nothing more runs on it.
TEST(GlBackend, RefusesByMissingCapabilityNotByArchitectureName) {
  REQUIRE_GL(gl);
  // What is still missing, by architecture: a latent cache row the matmul cannot stride over
  // (32 + 6 floats), heads wider than the attention shader holds.
  const std::pair<std::string, std::string> refusals[] = {
      {"deepseek2", "a latent cache row (kv_lora_rank + rope dims) that is not a multiple of 4"},
      {"qwen3moe", "heads wider than 256"},
  };
  for (const auto& [architecture, capability] : refusals) {
    RandomModelSpec spec;
    spec.architecture = architecture, spec.seed = 37;
    if (architecture == "deepseek2") spec.head_dim = 24, spec.n_rot = 6, spec.kv_lora_rank = 32;
    if (architecture == "qwen3moe") spec.n_head = 2, spec.n_head_kv = 1, spec.head_dim = 264;
    const TypedModelFile file(spec, GgmlType::F32);
    const auto model = file.load();
    try {
      gl->new_state(model, 8);
      ADD_FAILURE() << architecture << " was accepted";
    } catch (const moe::Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(capability), std::string::npos) << message;
      EXPECT_NE(message.find("architecture " + architecture), std::string::npos) << message;
      EXPECT_NE(message.find("--backend cpu"), std::string::npos) << message;
    }
  }

  // granitemoe with neutral multipliers computes what llama does: accepted, same logits.
  RandomModelSpec granite;
  granite.architecture = "granitemoe", granite.seed = 38;
  granite.embedding_scale = 1, granite.residual_scale = 1, granite.logit_scale = 1;
  granite.attention_scale = 1.0f / std::sqrt(static_cast<float>(granite.n_embd / granite.n_head));
  const TypedModelFile file(granite, GgmlType::F32);
  const auto model = file.load();
  const int n = 12;
  const std::vector<int32_t> tokens = random_tokens(n, model->config().n_vocab, 11);
  moe::CpuBackend cpu = exact_cpu_backend();
  auto cpu_state = cpu.new_state(model, n);
  auto gl_state = gl->new_state(model, n);
  std::vector<float> cpu_logits, gl_logits;
  moe::RoutingTrace cpu_trace = empty_trace(model->config());
  moe::RoutingTrace gl_trace = empty_trace(model->config());
  cpu.forward(*cpu_state, tokens, 0, moe::LogitsMode::All, cpu_logits, &cpu_trace);
  gl->forward(*gl_state, tokens, 0, moe::LogitsMode::All, gl_logits, &gl_trace);
  EXPECT_LT(moe::testing::max_relative_difference(gl_logits, cpu_logits), kLogitTolerance);
}

// Routing interventions go through the shared route_layer (the GL backend reads the router
// logits back and routes on the CPU side): the same choices (dropped and pinned experts
// included) and logits as the CPU backend under each rule and with the router knobs.
TEST(GlBackend, InterventionsRouteLikeTheCpuBackend) {
  REQUIRE_GL(gl);
  RandomModelSpec spec;
  spec.n_embd = 64, spec.n_head = 4, spec.n_head_kv = 2, spec.n_expert = 8, spec.n_expert_used = 2;
  spec.seed = 36;
  const TypedModelFile file(spec, GgmlType::F16);
  const auto model = file.load();
  const int n = 24;
  const std::vector<int32_t> tokens = random_tokens(n, model->config().n_vocab, 10);

  std::vector<std::pair<std::string, moe::RoutingInterventions>> variants;
  {
    moe::RoutingInterventions v;
    v.top_k = 1;
    v.top_k_by_layer[1] = 3;
    v.disabled.push_back({moe::kAllLayers, 3});
    v.pins.push_back({2, 1, 5});
    variants.emplace_back("top-k, disabled, pinned", v);
  }
  {
    moe::RoutingInterventions v;
    v.rule = moe::RoutingRule::Capacity;
    v.capacity_factor = 1.0;
    variants.emplace_back("capacity", v);
  }
  {
    moe::RoutingInterventions v;
    v.rule = moe::RoutingRule::ExpertChoice;
    variants.emplace_back("expert choice", v);
  }
  {
    // The router knobs: the noise is a function of (seed, position, layer, expert) only, so
    // both backends see the same noise.
    moe::RoutingInterventions v;
    v.temperature = 0.7;
    v.noise_scale = 0.5, v.noise_seed = 11;
    v.scoring = moe::Scoring::Sigmoid;
    v.expert_bias = {{2, 0.1}, {5, -0.05}};
    variants.emplace_back("router knobs", v);
  }
  // The per-token interventions route.comp applies itself (no pin, no noise, token choice).
  {
    moe::RoutingInterventions v;
    v.top_k = 3;
    v.top_k_by_layer[1] = 1;
    v.disabled.push_back({moe::kAllLayers, 3});
    v.disabled.push_back({0, 6});
    variants.emplace_back("gpu: top-k, disabled", v);
  }
  {
    moe::RoutingInterventions v;
    v.temperature = 0.7;
    v.scoring = moe::Scoring::Sigmoid;
    v.expert_bias = {{2, 0.1}, {5, -0.05}};
    variants.emplace_back("gpu: temperature, scoring, expert bias", v);
  }
  // Layers routed on the CPU per variant (the rest on the GPU): every MoE layer where the
  // interventions couple tokens or add the CPU's noise, the pinned layer only, none else.
  const std::vector<int> moe_layers = model->config().moe_layers();
  const auto n_moe = static_cast<long>(moe_layers.size());
  const bool layer1_moe = std::find(moe_layers.begin(), moe_layers.end(), 1) != moe_layers.end();
  const std::map<std::string, long> cpu_routed = {
      {"top-k, disabled, pinned", layer1_moe ? 1 : 0}, {"capacity", n_moe},
      {"expert choice", n_moe}, {"router knobs", n_moe},
      {"gpu: top-k, disabled", 0}, {"gpu: temperature, scoring, expert bias", 0}};
  moe::CpuBackend cpu = exact_cpu_backend();
  for (const auto& [label, interventions] : variants) {
    auto cpu_state = cpu.new_state(model, n);
    auto gl_state = gl->new_state(model, n);
    cpu_state->set_interventions(interventions);
    gl_state->set_interventions(interventions);
    std::vector<float> cpu_logits, gl_logits;
    moe::RoutingTrace cpu_trace = empty_trace(model->config());
    moe::RoutingTrace gl_trace = empty_trace(model->config());
    cpu.forward(*cpu_state, tokens, 0, moe::LogitsMode::All, cpu_logits, &cpu_trace);
    const moe::GlBackend::RoutingCounts before = gl->routing_counts();
    gl->forward(*gl_state, tokens, 0, moe::LogitsMode::All, gl_logits, &gl_trace);
    const moe::GlBackend::RoutingCounts after = gl->routing_counts();
    EXPECT_EQ(after.cpu_layers - before.cpu_layers, cpu_routed.at(label)) << label;
    EXPECT_EQ(after.gpu_layers - before.gpu_layers, n_moe - cpu_routed.at(label)) << label;
    // The logits and the trace, plus the router logits of each layer routed on the CPU.
    EXPECT_EQ(after.downloads - before.downloads, 2 + cpu_routed.at(label)) << label;
    EXPECT_LT(moe::testing::max_relative_difference(gl_logits, cpu_logits), kLogitTolerance)
        << label;
    int dropped = 0, pinned = 0;
    for (int t = 0; t < n; ++t) {
      for (int layer : model->config().moe_layers()) {
        const moe::RoutingRecord& want = cpu_trace.at(t, layer);
        const moe::RoutingRecord& got = gl_trace.at(t, layer);
        EXPECT_EQ(got.experts, want.experts) << label << " token " << t << " layer " << layer;
        EXPECT_EQ(got.dropped, want.dropped) << label << " token " << t << " layer " << layer;
        EXPECT_EQ(got.pinned, want.pinned) << label << " token " << t << " layer " << layer;
        // The rule both applied is the same, and so are the layer's values ("Inside the MoE
        // layer": the input, each chosen expert's output and the mix, in norms), within the
        // tolerance of the logits (the same f32 arithmetic summed in another order).
        EXPECT_EQ(got.gate.gating, want.gate.gating) << label;
        EXPECT_EQ(got.gate.normalized, want.gate.normalized) << label;
        EXPECT_EQ(got.gate.temperature, want.gate.temperature) << label;
        EXPECT_EQ(got.gate.noise_scale, want.gate.noise_scale) << label;
        EXPECT_EQ(got.gate.selection_bias, want.gate.selection_bias) << label;
        EXPECT_TRUE(want.values.available);
        ASSERT_TRUE(got.values.available) << label;
        const auto near = [&](float a, float b) {
          return std::abs(a - b) <= kLogitTolerance * std::max(1.0, static_cast<double>(std::abs(b)));
        };
        ASSERT_EQ(got.weights.size(), want.weights.size()) << label;
        for (size_t j = 0; j < want.weights.size(); ++j)
          EXPECT_PRED2(near, got.weights[j], want.weights[j]) << label;
        ASSERT_EQ(got.probs.size(), want.probs.size()) << label;
        for (size_t e = 0; e < want.probs.size(); ++e)
          EXPECT_PRED2(near, got.probs[e], want.probs[e]) << label;
        EXPECT_PRED2(near, got.values.input_norm, want.values.input_norm) << label;
        EXPECT_EQ(got.values.input_head.size(), want.values.input_head.size());
        ASSERT_EQ(got.values.expert_norms.size(), want.values.expert_norms.size()) << label;
        for (size_t j = 0; j < want.values.expert_norms.size(); ++j)
          EXPECT_PRED2(near, got.values.expert_norms[j], want.values.expert_norms[j]) << label;
        EXPECT_PRED2(near, got.values.routed_norm, want.values.routed_norm) << label;
        EXPECT_PRED2(near, got.values.output_norm, want.values.output_norm) << label;
        dropped += static_cast<int>(got.dropped.size());
        pinned += got.pinned ? 1 : 0;
      }
    }
    if (label == "capacity") {
      EXPECT_GT(dropped, 0) << "the capacity rule dropped nothing";
    }
    if (label == "top-k, disabled, pinned") {
      EXPECT_GT(pinned, 0) << "no pin applied";
    }
  }
}

}  // namespace
