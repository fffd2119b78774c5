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
#include <string>

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
