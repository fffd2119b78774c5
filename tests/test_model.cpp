// Model loading: configuration read from the file, parameter counts, type summary, the
// architecture table, the random model generator, and load errors that name what is wrong.
#include <gtest/gtest.h>

#include "model_fixtures.hpp"
#include "moe/arch.hpp"
#include "moe/error.hpp"
#include "moe/model.hpp"
#include "moe/random_model.hpp"

namespace {

using moe::GgmlType;
using moe::RandomModelSpec;
using moe::testing::GgufEdit;

RandomModelSpec mixed_spec() {
  RandomModelSpec spec;
  spec.name = "mixed test model";
  spec.n_vocab = 260, spec.n_embd = 64, spec.n_layer = 3, spec.n_head = 8, spec.n_head_kv = 2;
  spec.n_ff = 96, spec.n_ff_exp = 32, spec.n_expert = 6, spec.n_expert_used = 2;
  spec.dense_layers = {1}, spec.n_ctx = 300, spec.rms_eps = 1e-6f, spec.rope_base = 5000;
  return spec;
}

TEST(Model, ReadsConfigurationFromGeneratedFile) {
  const moe::testing::TempModelFile file(mixed_spec());
  const auto model = file.load();
  const moe::ModelConfig& c = model->config();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.name, "mixed test model");
  EXPECT_EQ(c.n_vocab, 260);
  EXPECT_EQ(c.n_ctx_train, 300);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_layer, 3);
  EXPECT_EQ(c.n_head, 8);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.head_dim_v, 8);
  EXPECT_EQ(c.n_rot, 8);
  EXPECT_EQ(c.n_ff, 96);
  EXPECT_EQ(c.n_ff_exp, 32);
  EXPECT_EQ(c.n_expert, 6);
  EXPECT_EQ(c.n_expert_used, 2);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-6f);
  EXPECT_FLOAT_EQ(c.rope_base, 5000.0f);
  EXPECT_EQ(c.moe_layers(), (std::vector<int>{0, 2}));
  EXPECT_EQ(model->path(), file.path());
  EXPECT_FALSE(model->output_tied());
  EXPECT_EQ(model->architecture().name, "llama");
  EXPECT_NE(model->layer(0).ffn_gate_inp, nullptr);
  EXPECT_EQ(model->layer(1).ffn_gate_inp, nullptr);
  EXPECT_NE(model->layer(1).ffn_down, nullptr);
}

TEST(Model, CountsTotalAndActiveParameters) {
  const RandomModelSpec spec = mixed_spec();
  const moe::testing::TempModelFile file(spec);
  const moe::ParameterCounts counts = file.load()->parameter_counts();
  const uint64_t d = 64, vocab = 260, q = 64, kv = 2 * 8, ff = 96, ff_exp = 32, experts = 6;
  EXPECT_EQ(counts.embedding, vocab * d);
  EXPECT_EQ(counts.output, vocab * d);
  EXPECT_EQ(counts.attention, 3 * (d * q + 2 * d * kv + q * d));
  EXPECT_EQ(counts.norms, d + 3 * 2 * d);
  EXPECT_EQ(counts.router, 2 * d * experts);
  EXPECT_EQ(counts.experts, 2 * experts * 3 * d * ff_exp);
  EXPECT_EQ(counts.dense_ffn, 3 * d * ff);
  const uint64_t shared = counts.embedding + counts.output + counts.attention + counts.norms +
                          counts.router + counts.dense_ffn;
  EXPECT_EQ(counts.total, shared + counts.experts);
  EXPECT_EQ(counts.active_experts, 2 * 2 * 3 * d * ff_exp);
  EXPECT_EQ(counts.active_per_token, shared + counts.active_experts);
}

TEST(Model, SummarizesTensorTypesAndTiesOutput) {
  RandomModelSpec spec = mixed_spec();
  spec.weight_type = GgmlType::Q8_0;
  spec.tie_output = true;
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  EXPECT_TRUE(model->output_tied());
  EXPECT_EQ(&model->output(), &model->token_embd());
  EXPECT_EQ(model->parameter_counts().output, 0u);

  const auto types = model->tensor_types();
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0].type, GgmlType::F32);
  EXPECT_EQ(types[0].n_tensors, 1 + 3 * 2 + 2);  // norms, and the 2 routers (kept F32)
  EXPECT_EQ(types[1].type, GgmlType::Q8_0);
  EXPECT_EQ(types[1].n_tensors, 1 + 3 * 4 + 2 * 3 + 3);
  uint64_t bytes = 0;
  for (const auto& tensor : model->file().tensors()) bytes += tensor.n_bytes;
  EXPECT_EQ(types[0].n_bytes + types[1].n_bytes, bytes);
}

TEST(Model, LoadsAModelWithoutExperts) {
  RandomModelSpec spec;
  spec.n_layer = 2, spec.dense_layers = {0, 1};
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  EXPECT_EQ(model->config().n_expert, 0);
  EXPECT_TRUE(model->config().moe_layers().empty());
  EXPECT_EQ(model->parameter_counts().active_per_token, model->parameter_counts().total);
}

// What a teacher reads in the Model panel and `info`: the routing rule in words, group limits
// included; DeepSeek-V2-Lite's one group (no limit) says nothing about groups.
TEST(ModelSummary, RoutingSummaryStatesTheGroupLimit) {
  moe::ModelConfig c;
  c.n_expert = 256, c.n_expert_used = 8, c.gating = moe::GatingFunction::Sigmoid;
  c.has_selection_bias = true, c.expert_weights_scale = 2.5f;
  c.n_expert_groups = 8, c.n_expert_groups_used = 4;
  EXPECT_EQ(moe::routing_summary(c),
            "sigmoid, top-8 of 256 within the best 4 of 8 groups, chosen with a per-expert "
            "selection bias, weights renormalized, x2.5");

  RandomModelSpec spec = mixed_spec();
  spec.n_expert = 8, spec.n_expert_groups = 1, spec.n_expert_groups_used = 1;
  const moe::testing::TempModelFile one_group(spec);
  const moe::ModelConfig& loaded = one_group.load()->config();
  EXPECT_EQ(loaded.n_expert_groups, 0);
  EXPECT_EQ(moe::routing_summary(loaded), "softmax, top-2 of 8, weights renormalized");

  spec.n_expert_groups = 4, spec.n_expert_groups_used = 2;
  const moe::testing::TempModelFile four_groups(spec);
  EXPECT_EQ(moe::routing_summary(four_groups.load()->config()),
            "softmax, top-2 of 8 within the best 2 of 4 groups, weights renormalized");
}

// Loads edited bytes and returns the error message ("" if it loaded).
std::string load_error(const GgufEdit& edit, const RandomModelSpec& spec = mixed_spec()) {
  const std::vector<uint8_t> bytes = moe::testing::edited_random_model(spec, edit);
  try {
    moe::Model::from_file(moe::gguf::GgufFile::parse(bytes, "edited.gguf"));
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST(ModelErrors, UneditedCopyLoads) { EXPECT_EQ(load_error({}), ""); }

TEST(ModelErrors, MissingKeyIsNamed) {
  const std::string message = load_error({.remove_keys = {"llama.embedding_length"}});
  EXPECT_TRUE(contains(message, "llama.embedding_length")) << message;
  const std::string no_arch = load_error({.remove_keys = {"general.architecture"}});
  EXPECT_TRUE(contains(no_arch, "general.architecture")) << no_arch;
}

TEST(ModelErrors, UnsupportedArchitectureListsSupportedOnes) {
  const std::string message =
      load_error({.set_keys = {{"general.architecture", moe::gguf::Value::string("mamba")}}});
  EXPECT_TRUE(contains(message, "mamba")) << message;
  EXPECT_TRUE(contains(message, "llama")) << message;
}

TEST(ModelErrors, MissingTensorIsNamed) {
  const std::string message = load_error({.remove_tensors = {"blk.2.attn_k.weight"}});
  EXPECT_TRUE(contains(message, "blk.2.attn_k.weight")) << message;
  const std::string expert = load_error({.remove_tensors = {"blk.0.ffn_down_exps.weight"}});
  EXPECT_TRUE(contains(expert, "blk.0.ffn_down_exps.weight")) << expert;
}

TEST(ModelErrors, WrongShapeNamesTensorExpectedAndActual) {
  GgufEdit edit;
  edit.replace_tensors["blk.1.attn_q.weight"] = {GgmlType::F32, {64, 32}, {}};
  const std::string message = load_error(edit);
  EXPECT_TRUE(contains(message, "blk.1.attn_q.weight")) << message;
  EXPECT_TRUE(contains(message, "[64, 32]")) << message;
  EXPECT_TRUE(contains(message, "[64, 64]")) << message;

  GgufEdit experts;
  experts.replace_tensors["blk.2.ffn_up_exps.weight"] = {GgmlType::F32, {64, 32, 5}, {}};
  const std::string expert_message = load_error(experts);
  EXPECT_TRUE(contains(expert_message, "blk.2.ffn_up_exps.weight")) << expert_message;
  EXPECT_TRUE(contains(expert_message, "[64, 32, 6]")) << expert_message;
}

TEST(ModelErrors, UnsupportedTypeNamesTensorAndType) {
  GgufEdit edit;
  // Q8_1 is only ever an intermediate type inside ggml's dot products, never a weight type.
  edit.replace_tensors["blk.0.attn_v.weight"] = {GgmlType::Q8_1, {64, 16}, {}};
  const std::string message = load_error(edit);
  EXPECT_TRUE(contains(message, "blk.0.attn_v.weight")) << message;
  EXPECT_TRUE(contains(message, "Q8_1")) << message;
  EXPECT_TRUE(contains(message, "Q8_0")) << message;  // listed among the supported types
}

TEST(ModelErrors, InconsistentHyperParametersNameTheKeys) {
  const std::string top_k =
      load_error({.set_keys = {{"llama.expert_used_count", moe::gguf::Value::u32(7)}}});
  EXPECT_TRUE(contains(top_k, "llama.expert_used_count")) << top_k;
  const std::string kv =
      load_error({.set_keys = {{"llama.attention.head_count_kv", moe::gguf::Value::u32(3)}}});
  EXPECT_TRUE(contains(kv, "llama.attention.head_count_kv")) << kv;
  const std::string wrong_type =
      load_error({.set_keys = {{"llama.block_count", moe::gguf::Value::string("three")}}});
  EXPECT_TRUE(contains(wrong_type, "llama.block_count")) << wrong_type;
  const std::string no_experts = load_error({.remove_keys = {"llama.expert_count"}});
  EXPECT_TRUE(contains(no_experts, "llama.expert_count")) << no_experts;
  EXPECT_TRUE(contains(no_experts, "blk.0.ffn_gate_inp.weight")) << no_experts;
}

TEST(ArchitectureTable, LlamaEntryAndLookup) {
  const moe::Architecture& llama = moe::find_architecture("llama");
  EXPECT_EQ(llama.key("expert_count"), "llama.expert_count");
  EXPECT_EQ(llama.rope, moe::RopePairing::Adjacent);
  EXPECT_EQ(llama.gating, moe::GatingFunction::Softmax);
  EXPECT_TRUE(llama.renormalize_top_k);
  EXPECT_EQ(moe::layer_tensor_name(llama.tensors.ffn_gate_inp, 12), "blk.12.ffn_gate_inp.weight");
  const auto names = moe::supported_architectures();
  EXPECT_NE(std::find(names.begin(), names.end(), "llama"), names.end());
  EXPECT_THROW(moe::find_architecture("gpt-j"), moe::Error);
}

TEST(RandomModel, WritesAByteLevelGpt2Tokenizer) {
  RandomModelSpec spec;
  spec.n_vocab = 270;
  const std::vector<uint8_t> bytes = moe::build_random_model(spec).to_bytes();
  const auto file = moe::gguf::GgufFile::parse(bytes);
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "gpt-2");
  const auto& tokens = file.require("tokenizer.ggml.tokens").as_array().items;
  ASSERT_EQ(tokens.size(), 270u);
  EXPECT_EQ(tokens[0].as_string(), "\u0100");   // byte 0: first non-printable byte
  EXPECT_EQ(tokens[32].as_string(), "\u0120");  // space: "Ġ"
  EXPECT_EQ(tokens[65].as_string(), "A");
  EXPECT_EQ(tokens[127].as_string(), "\u0121");  // DEL follows space among the shifted bytes
  EXPECT_EQ(tokens[173].as_string(), "\u0143");  // soft hyphen: the last shifted byte (U+0100 + 67)
  EXPECT_EQ(tokens[255].as_string(), "\u00ff");
  EXPECT_EQ(tokens[256].as_string(), "<s>");
  EXPECT_EQ(tokens[257].as_string(), "</s>");
  const auto& types = file.require("tokenizer.ggml.token_type").as_array().items;
  ASSERT_EQ(types.size(), 270u);
  EXPECT_EQ(types[10].as_int(), 1);
  EXPECT_EQ(types[256].as_int(), 3);
  EXPECT_EQ(file.get_uint("tokenizer.ggml.bos_token_id"), 256u);
  EXPECT_EQ(file.get_uint("tokenizer.ggml.eos_token_id"), 257u);
  EXPECT_TRUE(file.require("tokenizer.ggml.merges").as_array().items.empty());
}

TEST(RandomModel, SameSeedSameBytesOtherSeedOtherWeights) {
  RandomModelSpec spec;
  const auto first = moe::build_random_model(spec).to_bytes();
  EXPECT_EQ(first, moe::build_random_model(spec).to_bytes());
  spec.seed = 2;
  EXPECT_NE(first, moe::build_random_model(spec).to_bytes());
}

TEST(RandomModel, RejectsInconsistentSpecs) {
  RandomModelSpec q8;
  q8.n_embd = 48, q8.n_head = 4, q8.weight_type = GgmlType::Q8_0;
  EXPECT_THROW(moe::build_random_model(q8), moe::Error);
  RandomModelSpec small_vocab;
  small_vocab.n_vocab = 100;
  EXPECT_THROW(moe::build_random_model(small_vocab), moe::Error);
  RandomModelSpec top_k;
  top_k.n_expert_used = 9;
  EXPECT_THROW(moe::build_random_model(top_k), moe::Error);
}

}  // namespace
