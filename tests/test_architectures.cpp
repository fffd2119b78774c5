// Every supported architecture (llama, olmoe, qwen2moe, qwen3moe, granitemoe, deepseek2 in its
// V2-Lite and V3-style variants, phimoe) on small generated models: the CPU backend against the
// double-precision reference in tests/support/reference_architectures.cpp, written separately
// from llama.cpp's facts, plus prefill == token-by-token decode and the loader's configuration.
//
// Tolerances (as tests/test_cpu_backend.cpp, on the exact path for quantized weights): logits
// within 1e-4 relative (max |a - b| / max |b|); router scores within 1e-5; chosen experts identical
// except where the reference's k-th and (k+1)-th selection values are within 1e-6 (counted; the
// fixtures have none); gate weights within 1e-5 (absolute, after any scaling).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <random>
#include <string>

#include "decode_consistency.hpp"
#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/rope.hpp"
#include "moe/routing_stats.hpp"
#include "moe/tensor_schema.hpp"
#include "reference_architectures.hpp"

namespace {

using moe::GgmlType;
using moe::RandomModelSpec;
using moe::testing::ModelCase;
using moe::testing::random_tokens;

constexpr double kLogitTolerance = 1e-4;
constexpr double kScoreTolerance = 1e-5;
constexpr double kTieWindow = 1e-6;
constexpr int kContext = 32;

RandomModelSpec base_spec(const std::string& architecture, uint64_t seed) {
  RandomModelSpec s;
  s.architecture = architecture;
  s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32, s.n_ff = 64;
  s.n_ctx = 64, s.seed = seed;
  return s;
}

std::vector<ModelCase> arch_cases() {
  std::vector<ModelCase> cases;
  {
    RandomModelSpec s = base_spec("llama", 31);
    s.dense_layers = {1}, s.n_layer = 3;
    cases.push_back({"llama_mixed_f32", s});
  }
  {
    RandomModelSpec s = base_spec("olmoe", 32);
    s.n_head_kv = 4, s.n_expert = 16, s.n_expert_used = 4, s.weight_type = GgmlType::F16;
    cases.push_back({"olmoe_e16_top4_f16", s});
  }
  {
    RandomModelSpec s = base_spec("qwen2moe", 33);
    s.n_ff_shexp = 96;
    cases.push_back({"qwen2moe_shared_gated_f32", s});
  }
  {
    RandomModelSpec s = base_spec("qwen3moe", 34);
    s.head_dim = 32, s.weight_type = GgmlType::BF16;  // heads wider than n_embd / n_head
    cases.push_back({"qwen3moe_head32_bf16", s});
  }
  {
    RandomModelSpec s = base_spec("granitemoe", 35);
    s.tie_output = true;
    cases.push_back({"granitemoe_tied_f32", s});
  }
  {
    // V2-Lite shape: plain attn_q, softmax, weights not normalized but scaled, leading dense
    // layer, two shared experts, YaRN.
    RandomModelSpec s = base_spec("deepseek2", 36);
    s.n_layer = 3, s.dense_layers = {0};
    s.head_dim = 24, s.n_rot = 8, s.head_dim_v = 16, s.kv_lora_rank = 32;
    s.n_expert_shared = 2, s.expert_weights_scale = 1.5f;
    s.rope_scaling = "yarn", s.rope_scaling_factor = 4, s.rope_n_ctx_orig = 16;
    s.yarn_log_multiplier = 0.1f;
    cases.push_back({"deepseek2_lite_yarn_f32", s});
  }
  {
    // V3 style: q_lora, sigmoid gates, selection bias, normalized and scaled weights, the split
    // attn_k_b / attn_v_b layout of newer files.
    RandomModelSpec s = base_spec("deepseek2", 37);
    s.n_layer = 3, s.dense_layers = {0};
    s.head_dim = 24, s.n_rot = 8, s.head_dim_v = 16, s.kv_lora_rank = 32, s.q_lora_rank = 32;
    s.n_expert = 16, s.n_expert_used = 4, s.n_expert_shared = 1;
    s.sigmoid_gating = true, s.selection_bias = true, s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f, s.split_kv_b = true, s.weight_type = GgmlType::F16;
    cases.push_back({"deepseek2_v3_sigmoid_bias_split_f16", s});
  }
  {
    RandomModelSpec s = base_spec("phimoe", 38);
    s.rope_scaling = "longrope", s.rope_n_ctx_orig = 16, s.rope_attn_factor = 1.1f;
    cases.push_back({"phimoe_longrope_f32", s});
  }
  {
    // DeepSeek-V3's group-limited routing: 16 experts in 4 groups, top-4 within the best 2,
    // chosen by sigmoid scores plus the selection bias.
    RandomModelSpec s = base_spec("deepseek2", 39);
    s.n_layer = 3, s.dense_layers = {0};
    s.head_dim = 24, s.n_rot = 8, s.head_dim_v = 16, s.kv_lora_rank = 32, s.q_lora_rank = 32;
    s.n_expert = 16, s.n_expert_used = 4, s.n_expert_shared = 1;
    s.sigmoid_gating = true, s.selection_bias = true, s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f, s.n_expert_groups = 4, s.n_expert_groups_used = 2;
    cases.push_back({"deepseek2_v3_groups_f32", s});
  }
  {
    // llama.cpp applies group limits and accepts a fused attn_qkv for any architecture; here
    // both on a softmax model with Q8_0 weights (the fused rows split inside quantized data).
    RandomModelSpec s = base_spec("llama", 40);
    s.n_expert = 8, s.n_expert_used = 2, s.n_expert_groups = 4, s.n_expert_groups_used = 2;
    s.fused_qkv = true, s.attention_biases = true, s.weight_type = GgmlType::Q8_0;
    cases.push_back({"llama_groups_fused_qkv_q8_0", s});
  }
  {
    RandomModelSpec s = base_spec("phimoe", 41);
    s.fused_qkv = true;  // with the fused bias
    cases.push_back({"phimoe_fused_qkv_f32", s});
  }
  {
    // gpt-oss: sinks, a window of 4 on the even layers (with its own RoPE base), biases
    // everywhere, YaRN, 4 layers so both kinds of layer come twice.
    RandomModelSpec s = base_spec("gpt-oss", 42);
    s.n_layer = 4, s.n_head_kv = 2, s.attention_biases = true;
    s.sliding_window = 4, s.rope_base_swa = 500;
    s.rope_scaling = "yarn", s.rope_scaling_factor = 4, s.rope_n_ctx_orig = 16;
    cases.push_back({"gpt_oss_sinks_window_yarn_f32", s});
  }
  {
    RandomModelSpec s = base_spec("gpt-oss", 43);
    s.weight_type = GgmlType::F16;
    cases.push_back({"gpt_oss_f16", s});
  }
  {
    // GLM-4.5: a leading dense layer, sigmoid gates with the selection bias, normalized and
    // scaled weights, one shared expert, partial RoPE (half of each head), q/k/v biases.
    RandomModelSpec s = base_spec("glm4moe", 44);
    s.n_layer = 3, s.dense_layers = {0}, s.n_expert = 16, s.n_expert_used = 4;
    s.head_dim = 32, s.n_rot = 16, s.n_expert_shared = 1, s.attention_biases = true;
    s.selection_bias = true, s.sigmoid_gating = true, s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f;
    cases.push_back({"glm4moe_lead_partial_rope_f32", s});
  }
  {
    // GLM-4.5 (355B style): per-head q/k norms, no biases, BF16.
    RandomModelSpec s = base_spec("glm4moe", 45);
    s.n_layer = 3, s.dense_layers = {0}, s.n_rot = 8, s.qk_norm = true;
    s.selection_bias = true, s.sigmoid_gating = true, s.n_expert_shared = 2;
    s.weight_type = GgmlType::BF16;
    cases.push_back({"glm4moe_qk_norm_bf16", s});
  }
  {
    // DBRX: LayerNorm, the fused q/k/v clamped at 1 (small enough to bite on these weights).
    RandomModelSpec s = base_spec("dbrx", 46);
    s.clamp_kqv = 1.0f, s.fused_qkv = true;
    cases.push_back({"dbrx_clamped_f32", s});
  }
  {
    RandomModelSpec s = base_spec("dbrx", 47);
    s.n_head_kv = 4, s.fused_qkv = true, s.weight_type = GgmlType::Q8_0;
    cases.push_back({"dbrx_q8_0", s});
  }
  {
    // Hunyuan-A13B: q/k norms after RoPE, one shared expert of its own width.
    RandomModelSpec s = base_spec("hunyuan-moe", 48);
    s.n_expert = 16, s.n_expert_used = 4, s.n_ff_shexp = 96;
    cases.push_back({"hunyuan_moe_f32", s});
  }
  {
    // Llama 4 (Maverick-style): MoE every 2nd layer with a shared expert, sigmoid top-1 on the
    // expert's input, layer 3 NoPE, chunked layers with their own RoPE base, L2 q/k norms.
    RandomModelSpec s = base_spec("llama4", 49);
    s.n_layer = 4, s.moe_layer_step = 2, s.dense_layers = {0, 2};
    s.n_expert = 16, s.n_expert_used = 1;
    s.sigmoid_gating = true;  // llama4's own rule (no key is written for it)
    cases.push_back({"llama4_interleaved_top1_f32", s});
  }
  {
    RandomModelSpec s = base_spec("llama4", 50);
    s.n_layer = 4, s.n_expert_used = 3, s.weight_type = GgmlType::Q8_0;
    s.sigmoid_gating = true;
    cases.push_back({"llama4_scout_top3_q8_0", s});
  }
  {
    // Grok-1: llama.cpp's default multipliers and attention soft cap, output norms, GeGLU.
    RandomModelSpec s = base_spec("grok", 51);
    cases.push_back({"grok1_f32", s});
  }
  {
    // Grok-2 style: a dense GeGLU FFN beside the experts, logits soft-capped, F16.
    RandomModelSpec s = base_spec("grok", 52);
    s.dense_ffn_beside_experts = true, s.final_softcap = 2.0f, s.weight_type = GgmlType::F16;
    cases.push_back({"grok2_dense_softcap_f16", s});
  }
  {
    // ERNIE 4.5: a leading dense layer, softmax chosen with the selection bias, two shared
    // experts as one FFN, q/k/v biases (no output bias: llama.cpp never adds it).
    RandomModelSpec s = base_spec("ernie4_5-moe", 53);
    s.n_layer = 3, s.dense_layers = {0}, s.n_expert = 16, s.n_expert_used = 4;
    s.n_expert_shared = 2, s.selection_bias = true, s.attention_biases = true;
    cases.push_back({"ernie4_5_moe_bias_f32", s});
  }
  {
    // Ling 2.0: fused q/k/v with per-head q/k norms, partial RoPE, sigmoid gates with the
    // selection bias within the best 2 of 4 groups, normalized and x2.5, one shared expert.
    RandomModelSpec s = base_spec("bailingmoe2", 54);
    s.n_layer = 3, s.dense_layers = {0}, s.n_rot = 8, s.fused_qkv = true;
    s.n_expert = 16, s.n_expert_used = 4, s.n_expert_groups = 4, s.n_expert_groups_used = 2;
    s.sigmoid_gating = s.selection_bias = s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f, s.n_expert_shared = 1;
    cases.push_back({"bailingmoe2_groups_f32", s});
  }
  return cases;
}

moe::RoutingTrace make_trace(const moe::ModelConfig& config) {
  return moe::RoutingTrace(config.n_layer, config.n_expert, config.n_expert_used,
                           config.moe_layers());
}

// What "Inside the MoE layer" shows: the recorded norms equal the reference's, so the sum
// y = sum_i w_i E_i(x) (+ shared) it shows is the layer's output within rounding.
void expect_layer_values(const moe::LayerValues& values,
                         const moe::testing::ReferenceRouting& route) {
  constexpr double kNormTolerance = 1e-4;  // relative
  const auto near = [&](double recorded, double reference) {
    return std::abs(recorded - reference) <= kNormTolerance * std::max(1.0, std::abs(reference));
  };
  ASSERT_TRUE(values.available);
  EXPECT_TRUE(near(values.input_norm, route.input_norm))
      << values.input_norm << " vs " << route.input_norm;
  ASSERT_EQ(values.input_head.size(), route.input_head.size());
  for (size_t i = 0; i < route.input_head.size(); ++i)
    EXPECT_TRUE(near(values.input_head[i], route.input_head[i])) << "value " << i;
  ASSERT_EQ(values.expert_norms.size(), route.expert_norms.size());
  for (size_t j = 0; j < route.expert_norms.size(); ++j) {
    EXPECT_TRUE(near(values.expert_norms[j], route.expert_norms[j]))
        << "expert rank " << j << ": " << values.expert_norms[j] << " vs " << route.expert_norms[j];
  }
  EXPECT_TRUE(near(values.routed_norm, route.routed_norm))
      << values.routed_norm << " vs " << route.routed_norm;
  EXPECT_EQ(values.has_shared, route.has_shared);
  EXPECT_TRUE(near(values.shared_norm, route.shared_norm))
      << values.shared_norm << " vs " << route.shared_norm;
  EXPECT_TRUE(near(values.output_norm, route.output_norm))
      << values.output_norm << " vs " << route.output_norm;
}

class Architectures : public ::testing::TestWithParam<ModelCase> {};

TEST_P(Architectures, PrefillMatchesReference) {
  const RandomModelSpec& spec = GetParam().spec;
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  ASSERT_EQ(config.architecture, spec.architecture);
  const std::vector<int32_t> tokens = random_tokens(12, config.n_vocab, spec.seed);
  const auto reference =
      moe::testing::reference_forward(model->file(), tokens, {.n_ctx = kContext});

  // Exact f32 activations, so quantized weights meet the reference's dequantized ones.
  moe::CpuBackend backend({.n_threads = 2, .quantized_activations = false});
  auto state = backend.new_state(model, kContext);
  moe::RoutingTrace trace = make_trace(config);
  std::vector<float> logits;
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, logits, &trace);
  ASSERT_EQ(logits.size(), tokens.size() * static_cast<size_t>(config.n_vocab));

  int exemptions = 0, moe_records = 0;
  const auto n_vocab = static_cast<size_t>(config.n_vocab);
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::span<const float> row(logits.data() + t * n_vocab, n_vocab);
    EXPECT_LE(moe::testing::max_relative_difference(row, reference.logits[t]), kLogitTolerance)
        << "position " << t;
    for (int layer = 0; layer < config.n_layer; ++layer) {
      const int position = static_cast<int>(t);
      const auto& route = reference.routing[t][static_cast<size_t>(layer)];
      if (!config.layer_is_moe[static_cast<size_t>(layer)]) {
        EXPECT_TRUE(route.experts.empty()) << "layer " << layer << " is dense in the reference";
        EXPECT_FALSE(trace.has(position, layer));
        continue;
      }
      ASSERT_TRUE(trace.has(position, layer));
      ++moe_records;
      const moe::RoutingRecord& record = trace.at(position, layer);
      ASSERT_EQ(record.probs.size(), route.probs.size());
      for (size_t e = 0; e < route.probs.size(); ++e) {
        EXPECT_NEAR(record.probs[e], route.probs[e], kScoreTolerance);
      }
      if (moe::testing::near_tie(route, config.n_expert_used, kTieWindow)) {
        ++exemptions;
        continue;
      }
      EXPECT_EQ(record.experts, route.experts) << "position " << t << " layer " << layer;
      ASSERT_EQ(record.weights.size(), route.weights.size());
      for (size_t j = 0; j < route.weights.size(); ++j) {
        EXPECT_NEAR(record.weights[j], route.weights[j], kScoreTolerance);
      }
      EXPECT_EQ(record.gate.gating == moe::GatingFunction::Sigmoid, spec.sigmoid_gating);
      EXPECT_EQ(record.gate.selection_bias.empty(), !spec.selection_bias);
      EXPECT_EQ(record.gate.n_groups, spec.n_expert_groups);
      EXPECT_EQ(record.groups.size(),
                spec.n_expert_groups > 1 ? static_cast<size_t>(spec.n_expert_groups_used) : 0u);
      SCOPED_TRACE("layer values at position " + std::to_string(t) + " layer " +
                   std::to_string(layer));
      expect_layer_values(record.values, route);
    }
  }
  EXPECT_GT(moe_records, 0);
  EXPECT_EQ(exemptions, 0) << "near ties in the reference; pick another seed for a sharper test";
}

TEST_P(Architectures, TokenByTokenDecodeMatchesBatchedPrefill) {
  const moe::testing::DecodeVsPrefill result = moe::testing::decode_vs_prefill(GetParam().spec, kContext);
  ASSERT_EQ(result.logit_differences.size(), 10u);
  for (size_t t = 0; t < result.logit_differences.size(); ++t)
    EXPECT_LE(result.logit_differences[t], moe::testing::decode_tolerance(GetParam().spec))
        << "position " << t;
  EXPECT_TRUE(result.expert_mismatches.empty())
      << "experts differ at " << result.expert_mismatches.size() << " places, first "
      << result.expert_mismatches.front();
}

// The tensor schema that wrote the file is the one the loader read it by: every tensor of the
// generated file is in the schema and used by the model, and every required one is in the file.
TEST_P(Architectures, TheFileHoldsTheTensorSchema) {
  const RandomModelSpec& spec = GetParam().spec;
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  moe::TensorVariant variant;
  variant.fused_qkv = spec.fused_qkv;
  variant.split_kv_b = spec.split_kv_b;
  const std::vector<moe::TensorSpec> schema =
      moe::tensor_schema(model->architecture(), model->config(), variant);
  const auto in_schema = [&](const std::string& name) {
    return std::any_of(schema.begin(), schema.end(),
                       [&](const moe::TensorSpec& tensor) { return tensor.name == name; });
  };
  const auto bound = [&](const std::string& name) {  // directly or as the rows of a fused one
    return std::any_of(model->bound_tensors().begin(), model->bound_tensors().end(),
                       [&](const moe::BoundTensor& t) {
                         return t.tensor->name == name || t.tensor->name.rfind(name + " (", 0) == 0;
                       });
  };
  for (const moe::gguf::TensorInfo& tensor : model->file().tensors()) {
    EXPECT_TRUE(in_schema(tensor.name)) << tensor.name;
    EXPECT_TRUE(bound(tensor.name)) << tensor.name;
  }
  for (const moe::TensorSpec& tensor : schema) {
    if (tensor.required) {
      EXPECT_NE(model->file().find_tensor(tensor.name), nullptr) << tensor.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(GeneratedModels, Architectures, ::testing::ValuesIn(arch_cases()),
                         [](const auto& info) { return info.param.label; });

const RandomModelSpec& case_spec(const std::string& label) {
  static const std::vector<ModelCase> cases = arch_cases();
  for (const ModelCase& c : cases) {
    if (c.label == label) return c.spec;
  }
  throw std::runtime_error("no case " + label);
}

TEST(ArchitectureConfig, ReadsWhatEachArchitectureAdds) {
  {
    const moe::testing::TempModelFile file(case_spec("qwen2moe_shared_gated_f32"));
    const moe::ModelConfig& c = file.load()->config();
    EXPECT_EQ(c.shared_experts, moe::SharedExperts::SigmoidGated);
    EXPECT_EQ(c.n_expert_shared, 1);
    EXPECT_EQ(c.n_ff_shexp, 96);
    EXPECT_FALSE(c.normalize_expert_weights);
  }
  {
    const moe::testing::TempModelFile file(case_spec("deepseek2_lite_yarn_f32"));
    const auto model = file.load();
    const moe::ModelConfig& c = model->config();
    EXPECT_EQ(c.n_layer_dense_lead, 1);
    EXPECT_EQ(c.layer_is_moe, (std::vector<bool>{false, true, true}));
    EXPECT_EQ(c.shared_experts, moe::SharedExperts::Always);
    EXPECT_EQ(c.n_expert_shared, 2);
    EXPECT_EQ(c.n_ff_shexp, 64);
    EXPECT_EQ(c.q_lora_rank, 0);
    // llama.cpp needs the key at this layer count (3 is not a V2-Lite shape), 0 or not.
    const auto gguf = moe::gguf::GgufFile::open(file.path());
    ASSERT_NE(gguf.find("deepseek2.attention.q_lora_rank"), nullptr);
    EXPECT_EQ(gguf.get_uint("deepseek2.attention.q_lora_rank"), 0u);
    EXPECT_EQ(c.kv_lora_rank, 32);
    EXPECT_EQ(c.head_dim, 24);
    EXPECT_EQ(c.head_dim_v, 16);
    EXPECT_EQ(c.n_head_kv, c.n_head);
    EXPECT_EQ(c.gating, moe::GatingFunction::Softmax);
    EXPECT_FALSE(c.normalize_expert_weights);
    EXPECT_FLOAT_EQ(c.expert_weights_scale, 1.5f);
    EXPECT_EQ(c.rope_scaling, moe::RopeScaling::Yarn);
    EXPECT_FLOAT_EQ(c.rope_freq_scale, 0.25f);
    // mscale = 1 + 0.1 ln 4; scores scaled by mscale^2 / sqrt(24).
    const float mscale = 1 + 0.1f * std::log(4.0f);
    EXPECT_NEAR(c.kq_scale, mscale * mscale / std::sqrt(24.0f), 1e-6);
    EXPECT_FALSE(c.has_selection_bias);
  }
  {
    const moe::testing::TempModelFile file(case_spec("deepseek2_v3_sigmoid_bias_split_f16"));
    const auto model = file.load();
    const moe::ModelConfig& c = model->config();
    EXPECT_EQ(c.gating, moe::GatingFunction::Sigmoid);
    EXPECT_TRUE(c.normalize_expert_weights);
    EXPECT_TRUE(c.has_selection_bias);
    EXPECT_EQ(c.q_lora_rank, 32);
    EXPECT_EQ(c.head_dim, 24);  // from key_length_mla, not key_length (kv_lora + rope)
    EXPECT_EQ(model->selection_bias(1).size(), 16u);
    EXPECT_TRUE(model->selection_bias(0).empty());  // dense layer
    EXPECT_NE(model->layer(1).attn_k_b, nullptr);
  }
  {
    // Without expert_feed_forward_length, qwen3moe's experts are feed_forward_length / top-k
    // wide (llama.cpp's default for qwen2moe and qwen3moe).
    moe::testing::GgufEdit edit;
    edit.remove_keys = {"qwen3moe.expert_feed_forward_length"};
    edit.set_keys.emplace_back("qwen3moe.feed_forward_length", moe::gguf::Value::u32(64));
    const std::vector<uint8_t> bytes =
        moe::testing::edited_random_model(case_spec("qwen3moe_head32_bf16"), edit);
    const auto model = moe::Model::from_file(moe::gguf::GgufFile::parse(bytes));
    EXPECT_EQ(model->config().n_ff_exp, 32);
  }
  {
    const moe::testing::TempModelFile file(case_spec("granitemoe_tied_f32"));
    const moe::ModelConfig& c = file.load()->config();
    EXPECT_FLOAT_EQ(c.embedding_scale, 12);
    EXPECT_FLOAT_EQ(c.residual_scale, 0.22f);
    EXPECT_FLOAT_EQ(c.logit_scale, 6);
    EXPECT_FLOAT_EQ(c.kq_scale, 0.015625f);
  }
  {
    const moe::testing::TempModelFile file(case_spec("phimoe_longrope_f32"));
    const auto model = file.load();
    EXPECT_EQ(model->config().rope_scaling, moe::RopeScaling::LongRope);
    EXPECT_NE(model->output_bias(), nullptr);
    EXPECT_NE(model->layer(0).attn_norm_bias, nullptr);
    // Long factors past the original context (16), short ones within it.
    EXPECT_EQ(model->rope_factors(32)->name, "rope_factors_long.weight");
    EXPECT_EQ(model->rope_factors(16)->name, "rope_factors_short.weight");
  }
}

// DeepSeek-V3's selection bias changes which experts are chosen, never their weights.
TEST(ArchitectureRouting, SelectionBiasChangesChoicesNotWeights) {
  const RandomModelSpec& spec = case_spec("deepseek2_v3_sigmoid_bias_split_f16");
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  const std::vector<int32_t> tokens = random_tokens(12, config.n_vocab, 5);
  moe::CpuBackend backend({.n_threads = 2});
  auto state = backend.new_state(model, kContext);
  moe::RoutingTrace trace = make_trace(config);
  std::vector<float> logits;
  backend.forward(*state, tokens, 0, moe::LogitsMode::Last, logits, &trace);

  int changed = 0;
  for (int position = 0; position < static_cast<int>(tokens.size()); ++position) {
    for (int layer : config.moe_layers()) {
      const moe::RoutingRecord& record = trace.at(position, layer);
      std::vector<int32_t> by_score(record.probs.size());
      std::iota(by_score.begin(), by_score.end(), 0);
      std::stable_sort(by_score.begin(), by_score.end(),
                       [&](int32_t a, int32_t b) { return record.probs[a] > record.probs[b]; });
      by_score.resize(static_cast<size_t>(config.n_expert_used));
      std::vector<int32_t> chosen = record.experts;
      std::sort(chosen.begin(), chosen.end());
      std::sort(by_score.begin(), by_score.end());
      if (chosen != by_score) ++changed;
      // Weights: the unbiased sigmoid scores, normalized over the chosen, times 2.5.
      double sum = 0;
      for (int32_t e : record.experts) sum += record.probs[static_cast<size_t>(e)];
      for (size_t j = 0; j < record.experts.size(); ++j) {
        EXPECT_NEAR(record.weights[j],
                    record.probs[static_cast<size_t>(record.experts[j])] / sum * 2.5, 1e-5);
      }
    }
  }
  EXPECT_GT(changed, 0) << "the bias never changed a choice: the test shows nothing";
}

// With an expert disabled, the remaining choice still follows score + selection bias.
TEST(ArchitectureRouting, DisabledExpertKeepsTheSelectionBias) {
  const RandomModelSpec& spec = case_spec("deepseek2_v3_sigmoid_bias_split_f16");
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  const std::vector<int32_t> tokens = random_tokens(8, config.n_vocab, 6);
  moe::CpuBackend backend({.n_threads = 2});
  const auto run = [&](const moe::RoutingInterventions& interventions) {
    auto state = backend.new_state(model, kContext);
    state->set_interventions(interventions);
    moe::RoutingTrace trace = make_trace(config);
    std::vector<float> logits;
    backend.forward(*state, tokens, 0, moe::LogitsMode::Last, logits, &trace);
    return trace;
  };
  const int disabled = run({}).at(0, 1).experts.front();  // the model's first choice
  moe::RoutingInterventions interventions;
  interventions.disabled.push_back({moe::kAllLayers, disabled});
  const moe::RoutingTrace trace = run(interventions);
  for (int position = 0; position < static_cast<int>(tokens.size()); ++position) {
    for (int layer : config.moe_layers()) {
      const moe::RoutingRecord& record = trace.at(position, layer);
      const std::span<const float> bias = model->selection_bias(layer);
      std::vector<int32_t> expected;
      for (int e = 0; e < config.n_expert; ++e) {
        if (e != disabled) expected.push_back(e);
      }
      std::stable_sort(expected.begin(), expected.end(), [&](int32_t a, int32_t b) {
        return record.probs[a] + bias[a] > record.probs[b] + bias[b];
      });
      expected.resize(static_cast<size_t>(config.n_expert_used));
      EXPECT_EQ(record.experts, expected) << "position " << position << " layer " << layer;
    }
  }
}

// Sigmoid scores do not sum to 1; the router entropy is that of the normalized scores.
TEST(ArchitectureRouting, EntropyOfSigmoidScoresIsNormalized) {
  EXPECT_NEAR(moe::entropy_nats({0.5f, 0.5f}), std::log(2.0), 1e-12);
  EXPECT_NEAR(moe::entropy_nats({0.9f, 0.9f, 0.9f, 0.9f}), std::log(4.0), 1e-12);
  EXPECT_NEAR(moe::entropy_nats({0.25f, 0.75f}), moe::entropy_nats({0.1f, 0.3f}), 1e-7);
  EXPECT_EQ(moe::entropy_nats({0.0f, 0.0f}), 0.0);
}

TEST(ArchitectureRope, YarnBlendsInterpolationAndExtrapolation) {
  const moe::testing::TempModelFile file(case_spec("deepseek2_lite_yarn_f32"));
  const auto model = file.load();
  const moe::RopeParams rope = moe::rope_params(*model, kContext);
  EXPECT_EQ(rope.ext_factor, 1);
  EXPECT_DOUBLE_EQ(rope.freq_scale, 0.25);
  // deepseek2 divides YaRN's magnitude correction out of the rotation.
  float c = 0, s = 0;
  rope.rotation(5, 0, c, s);
  EXPECT_NEAR(c * c + s * s, 1.0, 1e-6);
  // The fastest pair extrapolates (angle = pos), the slowest interpolates (angle x 0.25).
  EXPECT_NEAR(std::atan2(s, c), std::remainder(5.0, 2 * std::numbers::pi), 1e-5);
  rope.rotation(5, 3, c, s);
  const double slowest = 5 * std::pow(10000.0, -6.0 / 8);
  EXPECT_NEAR(std::atan2(s, c), 0.25 * slowest, 1e-6);
}

// Group-limited routing: every choice lies within n_groups_used groups, the groups are the best
// by the sum of their two highest biased scores, and the limit really changes some choices.
TEST(ArchitectureRouting, GroupLimitChoosesWithinTheBestGroups) {
  const RandomModelSpec& spec = case_spec("deepseek2_v3_groups_f32");
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  ASSERT_EQ(config.n_expert_groups, 4);
  ASSERT_EQ(config.n_expert_groups_used, 2);
  const std::vector<int32_t> tokens = random_tokens(24, config.n_vocab, 8);
  moe::CpuBackend backend({.n_threads = 2});
  auto state = backend.new_state(model, kContext);
  moe::RoutingTrace trace = make_trace(config);
  std::vector<float> logits;
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, logits, &trace);

  const int per_group = config.n_expert / config.n_expert_groups;
  int changed = 0;
  for (int layer : config.moe_layers()) {
    const std::span<const float> bias = model->selection_bias(layer);
    for (size_t position = 0; position < tokens.size(); ++position) {
      const moe::RoutingRecord& record = trace.at(position, layer);
      ASSERT_EQ(record.probs.size(), 16u);  // scores of all experts, not only the allowed ones
      std::vector<double> selection(16), group_score(4, 0.0);
      for (size_t e = 0; e < 16; ++e) selection[e] = record.probs[e] + bias[e];
      for (int g = 0; g < 4; ++g) {
        std::vector<double> members(selection.begin() + g * per_group,
                                    selection.begin() + (g + 1) * per_group);
        std::sort(members.rbegin(), members.rend());
        group_score[static_cast<size_t>(g)] = members[0] + members[1];
      }
      std::vector<double> sorted_scores = group_score;
      std::sort(sorted_scores.rbegin(), sorted_scores.rend());
      for (int32_t expert : record.experts) {
        EXPECT_GE(group_score[static_cast<size_t>(expert / per_group)], sorted_scores[1])
            << "layer " << layer << " position " << position << " expert " << expert;
      }
      // The unlimited choice: the top-4 of all selection values.
      std::vector<int32_t> order(16);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return selection[static_cast<size_t>(a)] > selection[static_cast<size_t>(b)];
      });
      std::vector<int32_t> unlimited(order.begin(), order.begin() + 4);
      std::vector<int32_t> chosen = record.experts;
      std::sort(unlimited.begin(), unlimited.end());
      std::sort(chosen.begin(), chosen.end());
      if (chosen != unlimited) ++changed;
    }
  }
  EXPECT_GT(changed, 0) << "the group limit never changed a choice: the test shows nothing";
}

// A fused attn_qkv (as some conversions write it) computes exactly what the separate q, k, v
// projections with the same weights do.
TEST(ArchitectureLoading, FusedQkvEqualsSeparateProjections) {
  for (const std::string label : {"llama_groups_fused_qkv_q8_0", "phimoe_fused_qkv_f32"}) {
    SCOPED_TRACE(label);
    RandomModelSpec separate_spec = case_spec(label);
    separate_spec.fused_qkv = false;  // same seed: the same values, written as three tensors
    const moe::testing::TempModelFile fused_file(case_spec(label));
    const moe::testing::TempModelFile separate_file(separate_spec);
    const auto fused = fused_file.load();
    const auto separate = separate_file.load();
    ASSERT_EQ(fused->file().find_tensor("blk.0.attn_q.weight"), nullptr);
    ASSERT_NE(fused->file().find_tensor("blk.0.attn_qkv.weight"), nullptr);
    ASSERT_NE(fused->layer(0).attn_q_bias, nullptr);
    EXPECT_EQ(fused->parameter_counts().total, separate->parameter_counts().total);

    const std::vector<int32_t> tokens = random_tokens(10, fused->config().n_vocab, 3);
    std::vector<std::vector<float>> logits(2);
    std::vector<moe::RoutingTrace> traces = {make_trace(fused->config()),
                                             make_trace(separate->config())};
    moe::CpuBackend backend({.n_threads = 2});
    for (size_t i = 0; i < 2; ++i) {
      auto state = backend.new_state(i == 0 ? fused : separate, kContext);
      backend.forward(*state, tokens, 0, moe::LogitsMode::All, logits[i], &traces[i]);
    }
    EXPECT_LT(moe::testing::max_relative_difference(logits[0], logits[1]), 1e-6);
    for (int layer : fused->config().moe_layers()) {
      for (size_t position = 0; position < tokens.size(); ++position) {
        EXPECT_EQ(traces[0].at(position, layer).experts, traces[1].at(position, layer).experts);
      }
    }
  }
}

std::string load_error(const RandomModelSpec& spec, const moe::testing::GgufEdit& edit) {
  try {
    const std::vector<uint8_t> bytes = moe::testing::edited_random_model(spec, edit);
    moe::Model::from_file(moe::gguf::GgufFile::parse(bytes));
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

TEST(ArchitectureErrors, NameTheTensorOrKey) {
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"blk.1.attn_kv_a_mqa.weight"};
    const std::string error = load_error(case_spec("deepseek2_lite_yarn_f32"), edit);
    EXPECT_NE(error.find("blk.1.attn_kv_a_mqa.weight"), std::string::npos) << error;
  }
  {
    moe::testing::GgufEdit edit;
    edit.replace_tensors["blk.0.attn_q_norm.weight"] = {GgmlType::F32, {16}, {}};
    const std::string error = load_error(case_spec("qwen3moe_head32_bf16"), edit);
    EXPECT_NE(error.find("blk.0.attn_q_norm.weight"), std::string::npos) << error;
    EXPECT_NE(error.find("expected [32]"), std::string::npos) << error;
  }
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"blk.1.ffn_gate_inp_shexp.weight"};
    const std::string error = load_error(case_spec("qwen2moe_shared_gated_f32"), edit);
    EXPECT_NE(error.find("ffn_gate_inp_shexp"), std::string::npos) << error;
  }
  {
    moe::testing::GgufEdit edit;
    edit.set_keys.emplace_back("phimoe.rope.scaling.type", moe::gguf::Value::string("ntk"));
    const std::string error = load_error(case_spec("phimoe_longrope_f32"), edit);
    EXPECT_NE(error.find("rope.scaling.type"), std::string::npos) << error;
    EXPECT_NE(error.find("ntk"), std::string::npos) << error;
  }
  {
    moe::testing::GgufEdit edit;
    edit.set_keys.emplace_back("deepseek2.expert_gating_func", moe::gguf::Value::u32(7));
    const std::string error = load_error(case_spec("deepseek2_lite_yarn_f32"), edit);
    EXPECT_NE(error.find("expert_gating_func"), std::string::npos) << error;
  }
  {
    // Groups must split the 16 experts evenly, and fewer must be used than there are.
    moe::testing::GgufEdit edit;
    edit.set_keys.emplace_back("deepseek2.expert_group_count", moe::gguf::Value::u32(3));
    const std::string error = load_error(case_spec("deepseek2_v3_groups_f32"), edit);
    EXPECT_NE(error.find("deepseek2.expert_group_count (3)"), std::string::npos) << error;
  }
  {
    moe::testing::GgufEdit edit;
    edit.set_keys.emplace_back("deepseek2.expert_group_used_count", moe::gguf::Value::u32(4));
    const std::string error = load_error(case_spec("deepseek2_v3_groups_f32"), edit);
    EXPECT_NE(error.find("deepseek2.expert_group_used_count (4)"), std::string::npos) << error;
  }
  {
    // A fused projection of the wrong width is named with its shape.
    moe::testing::GgufEdit edit;
    edit.replace_tensors["blk.1.attn_qkv.weight"] = {GgmlType::F32, {64, 100}, {}};
    const std::string error = load_error(case_spec("phimoe_fused_qkv_f32"), edit);
    EXPECT_NE(error.find("blk.1.attn_qkv.weight"), std::string::npos) << error;
    EXPECT_NE(error.find("expected [64, 128]"), std::string::npos) << error;
  }
}

}  // namespace
