// What gpt-oss, glm4moe and dbrx add beyond the other architectures, each shown to matter:
// gpt-oss's weights are the softmax over the chosen biased logits, its window hides keys only
// past W positions; glm4moe's gating defaults to sigmoid and its NextN blocks are never run;
// dbrx's clamp bites; missing tensors and keys are named; hybrid architectures are refused. Their
// forward passes are compared with the double-precision reference in test_architectures.cpp
// (cases gpt_oss_*, glm4moe_*, dbrx_*).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <string>

#include "../core/backend/cpu_kernels.hpp"  // private to the backend; llama4's chunks tested here
#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/model.hpp"

namespace {

using moe::RandomModelSpec;
using moe::testing::random_tokens;

constexpr int kContext = 32;

RandomModelSpec gpt_oss_spec() {
  RandomModelSpec s;
  s.architecture = "gpt-oss";
  s.n_embd = 64, s.n_layer = 4, s.n_head = 4, s.n_head_kv = 2;
  s.n_expert = 8, s.n_expert_used = 3, s.n_ff_exp = 32, s.n_ctx = 64, s.seed = 71;
  s.attention_biases = true, s.sliding_window = 4, s.rope_base_swa = 500;
  return s;
}

RandomModelSpec glm4moe_spec() {
  RandomModelSpec s;
  s.architecture = "glm4moe";
  s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 2, s.n_rot = 8;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32, s.n_ff = 64, s.n_ctx = 64, s.seed = 72;
  s.dense_layers = {0}, s.n_expert_shared = 1;
  s.sigmoid_gating = s.selection_bias = s.expert_weights_norm = true;
  return s;
}

struct ForwardRun {
  std::vector<float> logits;  // n_tokens x n_vocab
  moe::RoutingTrace trace;
};

ForwardRun run(const std::shared_ptr<const moe::Model>& model, const std::vector<int32_t>& tokens) {
  const moe::ModelConfig& c = model->config();
  moe::CpuBackend backend({.n_threads = 2, .quantized_activations = false});
  auto state = backend.new_state(model, kContext);
  ForwardRun result{{}, moe::RoutingTrace(c.n_layer, c.n_expert, c.n_expert_used, c.moe_layers())};
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, result.logits, &result.trace);
  return result;
}

// The model of `spec` with `edit` applied, parsed from memory (the bytes live as long as the
// test program: a parsed file points into them).
std::shared_ptr<const moe::Model> load(const RandomModelSpec& spec,
                                       const moe::testing::GgufEdit& edit = {}) {
  static std::deque<std::vector<uint8_t>> files;
  files.push_back(moe::testing::edited_random_model(spec, edit));
  return moe::Model::from_file(moe::gguf::GgufFile::parse(files.back()));
}

// An F32 tensor's values.
std::vector<float> f32_values(const moe::gguf::GgufFile& file, const std::string& name) {
  const moe::gguf::TensorInfo* tensor = file.find_tensor(name);
  std::vector<float> values(static_cast<size_t>(tensor->n_elements));
  std::memcpy(values.data(), tensor->data, values.size() * sizeof(float));
  return values;
}

std::string load_error(const RandomModelSpec& spec, const moe::testing::GgufEdit& edit) {
  try {
    load(spec, edit);
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

TEST(GptOss, ReadsItsConfiguration) {
  const auto model = load(gpt_oss_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.attention_window, (std::vector<int>{4, 0, 4, 0}));  // the even layers
  EXPECT_FLOAT_EQ(c.rope_base_swa, 500);
  EXPECT_EQ(c.head_dim, c.n_rot);
  EXPECT_TRUE(c.softmax_over_chosen);
  EXPECT_EQ(c.expert_activation, moe::ExpertActivation::ClampedSwiGlu);
  EXPECT_NE(model->layer(0).attn_sinks, nullptr);
  EXPECT_NE(model->layer(0).ffn_gate_inp_bias, nullptr);
  EXPECT_NE(model->layer(0).ffn_down_exps_bias, nullptr);
  EXPECT_EQ(model->layer(0).ffn_norm->name, "blk.0.post_attention_norm.weight");
  EXPECT_NE(moe::routing_summary(c).find("softmax over the 3 chosen"), std::string::npos);
  EXPECT_NE(moe::attention_summary(c, model->architecture()).find("sliding window of 4"),
            std::string::npos);

  moe::testing::GgufEdit pattern;  // sliding_window_pattern 3: layers 0, 1 windowed, 2 full
  pattern.set_keys.emplace_back("gpt-oss.attention.sliding_window_pattern",
                                moe::gguf::Value::u32(3));
  EXPECT_EQ(load(gpt_oss_spec(), pattern)->config().attention_window,
            (std::vector<int>{4, 4, 0, 4}));
}

// Top-k on the biased router logits; weights exp(z_j) / sum over the chosen of exp(z_i).
TEST(GptOss, WeightsAreTheSoftmaxOverTheChosenLogits) {
  const auto model = load(gpt_oss_spec());
  const ForwardRun result = run(model, random_tokens(10, model->config().n_vocab, 3));
  int checked = 0;
  for (int position = 0; position < 10; ++position) {
    for (int layer : model->config().moe_layers()) {
      const moe::RoutingRecord& record = result.trace.at(position, layer);
      std::vector<int32_t> by_logit(record.logits.size());
      for (size_t e = 0; e < by_logit.size(); ++e) by_logit[e] = static_cast<int32_t>(e);
      std::stable_sort(by_logit.begin(), by_logit.end(),
                       [&](int32_t a, int32_t b) { return record.logits[a] > record.logits[b]; });
      by_logit.resize(record.experts.size());
      EXPECT_EQ(record.experts, by_logit);
      double sum = 0;
      for (int32_t e : record.experts) sum += std::exp(record.logits[static_cast<size_t>(e)]);
      for (size_t j = 0; j < record.experts.size(); ++j) {
        EXPECT_NEAR(record.weights[j],
                    std::exp(record.logits[static_cast<size_t>(record.experts[j])]) / sum, 1e-6);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 40);
}

// The router's bias is part of the logits the trace shows and top-k runs on.
TEST(GptOss, RouterBiasShiftsTheLogits) {
  const RandomModelSpec spec = gpt_oss_spec();
  moe::testing::GgufEdit no_bias;  // a zero bias in layer 0
  no_bias.replace_tensors["blk.0.ffn_gate_inp.bias"] = {moe::GgmlType::F32, {8}, {}};
  const auto model = load(spec);
  const auto unbiased = load(spec, no_bias);
  const std::vector<int32_t> tokens = random_tokens(4, model->config().n_vocab, 4);
  const ForwardRun a = run(model, tokens), b = run(unbiased, tokens);
  const auto bias = f32_values(model->file(), "blk.0.ffn_gate_inp.bias");
  for (int position = 0; position < 4; ++position) {
    const auto& with = a.trace.at(position, 0).logits;
    const auto& without = b.trace.at(position, 0).logits;
    for (size_t e = 0; e < with.size(); ++e)
      EXPECT_NEAR(with[e] - without[e], bias[e], 1e-5) << "expert " << e;
  }
}

// Keys at most W - 1 positions back are all a windowed layer sees: with a window wider than the
// sequence nothing changes before position W, something changes from there on.
TEST(GptOss, TheWindowHidesOnlyKeysWOrMorePositionsBack) {
  const RandomModelSpec spec = gpt_oss_spec();
  moe::testing::GgufEdit wide;
  wide.set_keys.emplace_back("gpt-oss.attention.sliding_window", moe::gguf::Value::u32(1000));
  wide.set_keys.emplace_back("gpt-oss.rope.freq_base_swa", moe::gguf::Value::f32(500));
  const auto windowed = load(spec), unwindowed = load(spec, wide);
  const int n_vocab = windowed->config().n_vocab;
  const std::vector<int32_t> tokens = random_tokens(10, n_vocab, 5);
  const ForwardRun a = run(windowed, tokens), b = run(unwindowed, tokens);
  for (int position = 0; position < 10; ++position) {
    const std::span<const float> row_a(a.logits.data() + position * n_vocab, n_vocab);
    const std::span<const float> row_b(b.logits.data() + position * n_vocab, n_vocab);
    const double difference = moe::testing::max_relative_difference(row_a, row_b);
    if (position < spec.sliding_window) {
      EXPECT_LT(difference, 1e-6) << "position " << position;
    } else {
      EXPECT_GT(difference, 1e-4) << "position " << position;
    }
  }
}

// Sinks take a share of every head's softmax: zero sinks give other logits.
TEST(GptOss, SinksTakeAShareOfTheAttention) {
  const RandomModelSpec spec = gpt_oss_spec();
  moe::testing::GgufEdit sinks;  // every head's sink -inf: exp(-inf) = 0, no share
  std::vector<uint8_t> minus_infinity(4 * sizeof(float));
  const float value = -std::numeric_limits<float>::infinity();
  for (int h = 0; h < 4; ++h) std::memcpy(minus_infinity.data() + h * 4, &value, 4);
  for (int il = 0; il < spec.n_layer; ++il) {
    sinks.replace_tensors["blk." + std::to_string(il) + ".attn_sinks.weight"] = {
        moe::GgmlType::F32, {4}, minus_infinity};
  }
  const auto with = load(spec), without = load(spec, sinks);
  const std::vector<int32_t> tokens = random_tokens(6, with->config().n_vocab, 6);
  const ForwardRun a = run(with, tokens), b = run(without, tokens);
  for (float logit : b.logits) ASSERT_TRUE(std::isfinite(logit));
  EXPECT_GT(moe::testing::max_relative_difference(a.logits, b.logits), 1e-3);
}

TEST(GptOss, MissingPiecesAreNamed) {
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"blk.2.attn_sinks.weight"};
    EXPECT_NE(load_error(gpt_oss_spec(), edit).find("blk.2.attn_sinks.weight"), std::string::npos);
  }
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"blk.1.ffn_up_exps.bias"};
    EXPECT_NE(load_error(gpt_oss_spec(), edit).find("blk.1.ffn_up_exps.bias"), std::string::npos);
  }
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"output.weight"};
    EXPECT_NE(load_error(gpt_oss_spec(), edit).find("output.weight"), std::string::npos);
  }
  {
    moe::testing::GgufEdit edit;
    edit.remove_keys = {"gpt-oss.attention.sliding_window"};
    EXPECT_NE(load_error(gpt_oss_spec(), edit).find("gpt-oss.attention.sliding_window"),
              std::string::npos);
  }
}

TEST(Glm4Moe, ReadsItsConfiguration) {
  const auto model = load(glm4moe_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.layer_is_moe, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(c.gating, moe::GatingFunction::Sigmoid);
  EXPECT_TRUE(c.has_selection_bias);
  EXPECT_TRUE(c.normalize_expert_weights);
  EXPECT_EQ(c.shared_experts, moe::SharedExperts::Always);
  EXPECT_EQ(c.n_ff_shexp, 32);
  EXPECT_FALSE(c.has_qk_norm);
  EXPECT_EQ(model->layer(1).ffn_norm->name, "blk.1.post_attention_norm.weight");
  EXPECT_EQ(moe::attention_summary(c, model->architecture()).find("QK-norm"), std::string::npos);
  EXPECT_NE(moe::rope_summary(c, model->architecture()).find("8 dims of 16"), std::string::npos);

  // Without expert_gating_func, glm4moe's gates are sigmoid (deepseek2's softmax).
  moe::testing::GgufEdit edit;
  edit.remove_keys = {"glm4moe.expert_gating_func"};
  EXPECT_EQ(load(glm4moe_spec(), edit)->config().gating, moe::GatingFunction::Sigmoid);
  edit.set_keys.emplace_back("glm4moe.expert_gating_func", moe::gguf::Value::u32(1));
  EXPECT_EQ(load(glm4moe_spec(), edit)->config().gating, moe::GatingFunction::Softmax);
}

// The trailing nextn_predict_layers blocks are never run: a 3-block file with one NextN block
// computes what the same file cut to 2 blocks computes.
TEST(Glm4Moe, NextNBlocksAreSkipped) {
  const RandomModelSpec spec = glm4moe_spec();
  moe::testing::GgufEdit nextn;
  nextn.set_keys.emplace_back("glm4moe.nextn_predict_layers", moe::gguf::Value::u32(1));
  moe::testing::GgufEdit cut;
  cut.set_keys.emplace_back("glm4moe.block_count", moe::gguf::Value::u32(2));
  const auto full = load(spec);
  for (const moe::gguf::TensorInfo& tensor : full->file().tensors()) {
    if (tensor.name.rfind("blk.2.", 0) == 0) cut.remove_tensors.insert(tensor.name);
  }
  const auto with_nextn = load(spec, nextn), two_blocks = load(spec, cut);
  EXPECT_EQ(with_nextn->config().n_layer, 2);
  EXPECT_EQ(with_nextn->config().n_layer_nextn, 1);
  const std::vector<int32_t> tokens = random_tokens(6, full->config().n_vocab, 7);
  const ForwardRun a = run(with_nextn, tokens), b = run(two_blocks, tokens), c = run(full, tokens);
  EXPECT_EQ(a.logits, b.logits);
  EXPECT_GT(moe::testing::max_relative_difference(c.logits, b.logits), 1e-3);

  nextn.set_keys.back().second = moe::gguf::Value::u32(3);
  EXPECT_NE(load_error(spec, nextn).find("glm4moe.nextn_predict_layers (3)"), std::string::npos);
}

TEST(Glm4Moe, MissingPiecesAreNamed) {
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"blk.2.exp_probs_b.bias"};
    EXPECT_NE(load_error(glm4moe_spec(), edit).find("blk.2.exp_probs_b.bias"), std::string::npos);
  }
  {
    moe::testing::GgufEdit edit;
    edit.remove_keys = {"glm4moe.expert_shared_count"};
    EXPECT_NE(load_error(glm4moe_spec(), edit).find("glm4moe.expert_shared_count"),
              std::string::npos);
  }
  {
    moe::testing::GgufEdit edit;
    edit.remove_tensors = {"blk.1.ffn_up_shexp.weight"};
    EXPECT_NE(load_error(glm4moe_spec(), edit).find("blk.1.ffn_up_shexp.weight"),
              std::string::npos);
  }
}

RandomModelSpec dbrx_spec() {
  RandomModelSpec s;
  s.architecture = "dbrx";
  s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32, s.n_ctx = 64, s.seed = 73;
  s.clamp_kqv = 1.0f;
  return s;
}

TEST(Dbrx, ReadsItsConfiguration) {
  const auto model = load(dbrx_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_FLOAT_EQ(c.clamp_kqv, 1.0f);
  EXPECT_EQ(c.n_ff_exp, 32);  // feed_forward_length
  EXPECT_NE(model->file().find_tensor("blk.0.attn_qkv.weight"), nullptr);
  EXPECT_EQ(model->layer(0).ffn_norm->name, "blk.0.attn_output_norm.weight");
  const std::string attention = moe::attention_summary(c, model->architecture());
  EXPECT_NE(attention.find("LayerNorm"), std::string::npos) << attention;
  EXPECT_NE(attention.find("clamped to +-1"), std::string::npos) << attention;
}

// The clamp bites on these weights: a wider one gives other logits.
TEST(Dbrx, TheClampLimitsQueriesKeysAndValues) {
  moe::testing::GgufEdit wide;
  wide.set_keys.emplace_back("dbrx.attention.clamp_kqv", moe::gguf::Value::f32(1000));
  const auto clamped = load(dbrx_spec()), unclamped = load(dbrx_spec(), wide);
  const std::vector<int32_t> tokens = random_tokens(6, clamped->config().n_vocab, 8);
  const ForwardRun a = run(clamped, tokens), b = run(unclamped, tokens);
  EXPECT_GT(moe::testing::max_relative_difference(a.logits, b.logits), 1e-3);
}

TEST(Dbrx, MissingPiecesAreNamed) {
  for (const std::string key : {"dbrx.attention.clamp_kqv", "dbrx.attention.layer_norm_epsilon"}) {
    moe::testing::GgufEdit edit;
    edit.remove_keys = {key};
    EXPECT_NE(load_error(dbrx_spec(), edit).find(key), std::string::npos) << key;
  }
  moe::testing::GgufEdit edit;
  edit.remove_tensors = {"blk.1.attn_qkv.weight"};
  EXPECT_NE(load_error(dbrx_spec(), edit).find("blk.1.attn_qkv.weight"), std::string::npos);
}

TEST(HunyuanMoe, ReadsItsConfiguration) {
  RandomModelSpec spec;
  spec.architecture = "hunyuan-moe";
  spec.n_ff_exp = 32, spec.n_ff_shexp = 96;
  const auto model = load(spec);
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.n_ff_exp, 32);  // feed_forward_length
  EXPECT_EQ(c.n_ff_shexp, 96);
  EXPECT_EQ(c.n_expert_shared, 1);
  EXPECT_NE(model->layer(0).attn_q_norm, nullptr);
  EXPECT_NE(moe::attention_summary(c, model->architecture()).find("after RoPE"), std::string::npos);
  moe::testing::GgufEdit edit;  // required by llama.cpp's loader although unused
  edit.remove_keys = {"hunyuan-moe.expert_feed_forward_length"};
  EXPECT_NE(load_error(spec, edit).find("hunyuan-moe.expert_feed_forward_length"),
            std::string::npos);
}

RandomModelSpec llama4_spec() {
  RandomModelSpec s;
  s.architecture = "llama4";
  s.n_embd = 64, s.n_layer = 4, s.n_head = 4, s.n_head_kv = 2, s.n_ctx = 64, s.seed = 73;
  s.n_expert = 16, s.n_expert_used = 1, s.n_ff_exp = 32, s.n_ff = 64;
  s.moe_layer_step = 2, s.dense_layers = {0, 2};
  return s;
}

TEST(Llama4, ReadsItsConfiguration) {
  const auto model = load(llama4_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.layer_is_moe, (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(c.n_moe_layer_step, 2);
  EXPECT_EQ(c.n_ff_shexp, 32);  // one shared expert as wide as the routed ones
  EXPECT_NE(model->layer(1).ffn_up_shexp, nullptr);
  EXPECT_EQ(c.gating, moe::GatingFunction::Sigmoid);
  EXPECT_FALSE(c.normalize_expert_weights);
  EXPECT_TRUE(c.expert_input_weighted);
  EXPECT_EQ(c.layer_rotates, (std::vector<bool>{true, true, true, false}));  // every 4th NoPE
  EXPECT_EQ(c.attention_chunk, (std::vector<int>{8192, 8192, 8192, 0}));
  EXPECT_TRUE(c.qk_l2_norm);
  const std::string routing = moe::routing_summary(c);
  EXPECT_NE(routing.find("multiplying the expert's input"), std::string::npos) << routing;
  const std::string attention = moe::attention_summary(c, model->architecture());
  EXPECT_NE(attention.find("1 NoPE layer"), std::string::npos) << attention;
  EXPECT_NE(attention.find("chunked attention (8192 positions) on 3 of 4"), std::string::npos)
      << attention;

  // attention.sliding_window 0: no chunks, RoPE on all but the last layer, as llama.cpp reads it.
  moe::testing::GgufEdit unchunked;
  unchunked.set_keys.emplace_back("llama4.attention.sliding_window", moe::gguf::Value::u32(0));
  const auto unchunked_model = load(llama4_spec(), unchunked);
  const moe::ModelConfig& u = unchunked_model->config();
  EXPECT_EQ(u.attention_chunk, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(u.layer_rotates, (std::vector<bool>{true, true, true, false}));
  // 128 experts (Maverick): no q/k norm, as llama.cpp decides by the expert count.
  RandomModelSpec maverick = llama4_spec();
  maverick.n_expert = 128;
  EXPECT_FALSE(load(maverick)->config().qk_l2_norm);
  moe::testing::GgufEdit edit;
  edit.remove_keys = {"llama4.interleave_moe_layer_step"};
  EXPECT_NE(load_error(llama4_spec(), edit).find("llama4.interleave_moe_layer_step"),
            std::string::npos);
}

// The gate weight is the chosen logit's sigmoid, not renormalized (with top-1 it would be 1).
// That it multiplies the expert's input is checked against the reference forward
// (test_architectures, llama4_* cases).
TEST(Llama4, TheGateWeightIsTheChosenLogitsSigmoid) {
  const auto model = load(llama4_spec());
  const std::vector<int32_t> tokens = random_tokens(6, model->config().n_vocab, 9);
  const ForwardRun a = run(model, tokens);
  for (int t = 0; t < 6; ++t) {
    const moe::RoutingRecord& r = a.trace.at(t, 1);
    ASSERT_EQ(r.experts.size(), 1u);
    // The weight is the chosen logit's sigmoid (not renormalized to 1).
    const float logit = r.logits[static_cast<size_t>(r.experts[0])];
    EXPECT_NEAR(r.weights[0], 1.0f / (1.0f + std::exp(-logit)), 1e-6f);
    EXPECT_LT(r.weights[0], 1.0f);
    EXPECT_TRUE(r.gate.weights_on_input);  // what "Inside the MoE layer" explains
  }
}

RandomModelSpec grok_spec() {
  RandomModelSpec s;
  s.architecture = "grok";
  s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.n_ctx = 64, s.seed = 74;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32;
  return s;
}

TEST(Grok, ReadsLlamaCppsDefaultsAndTheFilesKeys) {
  const auto model = load(grok_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_FLOAT_EQ(c.embedding_scale, 78.38367176906169f);
  EXPECT_FLOAT_EQ(c.kq_scale, 0.08838834764831845f);
  EXPECT_FLOAT_EQ(c.attn_softcap, 30.0f);
  EXPECT_NEAR(1 / c.logit_scale, 0.5773502691896257, 1e-7);
  EXPECT_EQ(c.final_softcap, 0.0f);
  EXPECT_EQ(c.expert_activation, moe::ExpertActivation::GeGlu);
  EXPECT_EQ(model->layer(1).attn_output_norm->name, "blk.1.attn_output_norm.weight");
  EXPECT_EQ(model->layer(1).ffn_post_norm->name, "blk.1.layer_output_norm.weight");
  EXPECT_EQ(model->layer(1).ffn_up, nullptr);  // Grok-1: no dense FFN beside the experts
  const std::string attention = moe::attention_summary(c, model->architecture());
  EXPECT_NE(attention.find("soft-capped at +-30"), std::string::npos) << attention;
  EXPECT_NE(moe::routing_summary(c).find("GeGLU"), std::string::npos);

  moe::testing::GgufEdit edit;
  edit.set_keys.emplace_back("grok.attn_logit_softcapping", moe::gguf::Value::f32(4));
  edit.set_keys.emplace_back("grok.final_logit_softcapping", moe::gguf::Value::f32(5));
  const auto edited = load(grok_spec(), edit);
  const moe::ModelConfig& e = edited->config();
  EXPECT_EQ(e.attn_softcap, 4.0f);
  EXPECT_EQ(e.final_softcap, 5.0f);
  // Without layer_output_norm llama.cpp looks for post_ffw_norm (Grok-2's name), and so do we.
  moe::testing::GgufEdit missing;
  missing.remove_tensors = {"blk.0.layer_output_norm.weight"};
  EXPECT_NE(load_error(grok_spec(), missing).find("missing tensor 'blk.0.post_ffw_norm.weight'"),
            std::string::npos);
}

// The soft caps bite: a cap of 0.5 on the attention scores and of 1 on the logits change them,
// and no capped logit reaches the cap.
TEST(Grok, TheSoftCapsLimitScoresAndLogits) {
  moe::testing::GgufEdit capped;
  capped.set_keys.emplace_back("grok.attn_logit_softcapping", moe::gguf::Value::f32(0.5f));
  capped.set_keys.emplace_back("grok.final_logit_softcapping", moe::gguf::Value::f32(1));
  const auto plain = load(grok_spec()), tight = load(grok_spec(), capped);
  const std::vector<int32_t> tokens = random_tokens(6, plain->config().n_vocab, 10);
  const ForwardRun a = run(plain, tokens), b = run(tight, tokens);
  EXPECT_GT(moe::testing::max_relative_difference(a.logits, b.logits), 1e-2);
  for (float logit : b.logits) EXPECT_LT(std::abs(logit), 1.0f);
  EXPECT_FALSE(a.trace.at(0, 0).gate.weights_on_input);  // grok weighs the experts' outputs
}

RandomModelSpec ernie_spec() {
  RandomModelSpec s;
  s.architecture = "ernie4_5-moe";
  s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 2, s.n_ctx = 64, s.seed = 75;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32, s.n_ff = 64;
  s.dense_layers = {0}, s.n_expert_shared = 2, s.selection_bias = true;
  return s;
}

TEST(Ernie45Moe, ReadsItsConfiguration) {
  const auto model = load(ernie_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.layer_is_moe, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(c.n_layer_dense_lead, 1);
  EXPECT_EQ(c.n_ff_shexp, 64);  // expert_shared_feed_forward_length: both shared experts
  EXPECT_EQ(c.n_expert_shared, 2);
  EXPECT_EQ(c.gating, moe::GatingFunction::Softmax);
  EXPECT_TRUE(c.normalize_expert_weights);
  EXPECT_TRUE(c.has_selection_bias);
  EXPECT_EQ(moe::routing_summary(c).find("softmax, top-2 of 8 chosen with a per-expert selection"),
            0u)
      << moe::routing_summary(c);
  // The selection bias and the shared experts are optional, as in llama.cpp.
  RandomModelSpec plain = ernie_spec();
  plain.selection_bias = false, plain.n_expert_shared = 0;
  const auto bare = load(plain);
  EXPECT_FALSE(bare->config().has_selection_bias);
  EXPECT_EQ(bare->config().n_ff_shexp, 0);
  EXPECT_EQ(bare->layer(1).ffn_up_shexp, nullptr);
  // Dense layers between MoE ones: llama.cpp b8967 loads experts for them but never runs them.
  moe::testing::GgufEdit step;
  step.set_keys.emplace_back("ernie4_5-moe.interleave_moe_layer_step", moe::gguf::Value::u32(2));
  EXPECT_NE(load_error(ernie_spec(), step).find("interleave_moe_layer_step is 2"),
            std::string::npos);
}

RandomModelSpec bailing_spec() {
  RandomModelSpec s;
  s.architecture = "bailingmoe2";
  s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 2, s.n_rot = 8, s.n_ctx = 64;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32, s.n_ff = 64, s.seed = 76;
  s.dense_layers = {0}, s.n_expert_shared = 1, s.fused_qkv = true;
  s.sigmoid_gating = s.selection_bias = s.expert_weights_norm = true;
  return s;
}

TEST(BailingMoe2, ReadsItsConfiguration) {
  const auto model = load(bailing_spec());
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.gating, moe::GatingFunction::Sigmoid);
  EXPECT_EQ(c.n_ff_shexp, 32);
  EXPECT_NE(model->layer(0).attn_q_norm, nullptr);
  EXPECT_EQ(model->layer(0).ffn_norm->name, "blk.0.ffn_norm.weight");
  // expert_shared_feed_forward_length is one shared expert's width, times the count.
  moe::testing::GgufEdit wide;
  wide.set_keys.emplace_back("bailingmoe2.expert_shared_feed_forward_length",
                             moe::gguf::Value::u32(48));
  wide.set_keys.emplace_back("bailingmoe2.expert_shared_count", moe::gguf::Value::u32(2));
  EXPECT_NE(load_error(bailing_spec(), wide).find("expected [64, 96]"), std::string::npos);
  // Required as llama.cpp requires them: the gating function and the q/k norms.
  moe::testing::GgufEdit no_gating;
  no_gating.remove_keys = {"bailingmoe2.expert_gating_func"};
  EXPECT_NE(load_error(bailing_spec(), no_gating).find("bailingmoe2.expert_gating_func"),
            std::string::npos);
  moe::testing::GgufEdit no_norm;
  no_norm.remove_tensors = {"blk.1.attn_k_norm.weight"};
  EXPECT_NE(load_error(bailing_spec(), no_norm).find("blk.1.attn_k_norm.weight"),
            std::string::npos);
}

// llama4's chunks (8192 positions in real files, 4 here): a query past a chunk boundary sees
// exactly what a fresh sequence starting at that boundary would, and one before it everything.
TEST(Llama4, ChunkedAttentionStartsOverAtEachChunk) {
  moe::ModelConfig config;
  config.n_head = config.n_head_kv = 2;
  config.head_dim = config.head_dim_v = 4;
  config.kq_scale = 0.5f;
  const int n = 7, width = config.n_head * config.head_dim;
  std::mt19937 rng(12);
  std::normal_distribution<float> normal;
  moe::cpu::RowMatrix q(n, width), k(n, width), v(n, width);
  for (moe::cpu::RowMatrix* m : {&q, &k, &v})
    *m = m->unaryExpr([&](float) { return normal(rng); });
  moe::cpu::Kernels kernels(1);
  moe::cpu::RowMatrix chunked, full, fresh;
  moe::cpu::AttentionExtras extras;
  extras.chunk = 4;
  moe::cpu::attention(kernels, config, q, k, v, 0, chunked, extras);
  moe::cpu::attention(kernels, config, q, k, v, 0, full);
  const moe::cpu::RowMatrix q_tail = q.bottomRows(3), k_tail = k.bottomRows(3),
                            v_tail = v.bottomRows(3);
  moe::cpu::attention(kernels, config, q_tail, k_tail, v_tail, 0, fresh);
  EXPECT_TRUE(chunked.topRows(4).isApprox(full.topRows(4), 1e-6f));
  EXPECT_TRUE(chunked.bottomRows(3).isApprox(fresh, 1e-6f));
  EXPECT_FALSE(chunked.bottomRows(3).isApprox(full.bottomRows(3), 1e-3f));
}

// Hybrid and recurrent architectures are refused with what they have that moescope lacks.
TEST(RecurrentArchitectures, AreRefusedNamingWhatIsMissing) {
  RandomModelSpec spec;
  spec.architecture = "qwen3moe";
  const auto error_as = [&](const std::string& architecture) {
    moe::testing::GgufEdit edit;
    edit.set_keys.emplace_back("general.architecture", moe::gguf::Value::string(architecture));
    return load_error(spec, edit);
  };
  const std::string qwen3next = error_as("qwen3next");
  EXPECT_NE(qwen3next.find("qwen3next mixes Gated DeltaNet linear-attention layers with attention"),
            std::string::npos)
      << qwen3next;
  EXPECT_NE(qwen3next.find("attention-only"), std::string::npos) << qwen3next;
  EXPECT_NE(error_as("granitehybrid").find("Mamba2"), std::string::npos);
  EXPECT_NE(error_as("lfm2moe").find("short-convolution"), std::string::npos);
  EXPECT_NE(error_as("nemotron_h_moe").find("Mamba2"), std::string::npos);
  EXPECT_NE(error_as("rwkv7").find("RWKV-7"), std::string::npos);
  // Any other unknown name lists what is supported.
  const std::string unknown = error_as("not-an-arch");
  EXPECT_NE(unknown.find("supported: "), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("gpt-oss"), std::string::npos) << unknown;
}

}  // namespace
