// The CPU backend against the double-precision reference forward (tests/support), on generated
// models covering 4-64 experts, top-1..8, mixed dense/MoE layers, GQA/MQA, biases, tied output
// and F32/F16/BF16/Q8_0 weights.
//
// Quantized weights are compared on the exact path (quantized_activations = false: weights
// converted to f32); the default 8-bit activation path is checked per type in
// test_cpu_backend_types.
//
// Tolerances: logits within 1e-4 relative (max |a - b| / max |b|). Chosen experts must equal the
// reference's, except where the reference's k-th and (k+1)-th probabilities are within 1e-6 of
// each other (an exact tie in double can fall either way in f32); such exemptions are counted
// and the fixtures below have none.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "decode_consistency.hpp"
#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "reference_architectures.hpp"

namespace {

using moe::GgmlType;
using moe::RandomModelSpec;
using moe::testing::ModelCase;
using moe::testing::random_tokens;

constexpr double kLogitTolerance = 1e-4;
constexpr double kTieWindow = 1e-6;

std::vector<ModelCase> backend_cases() {
  std::vector<ModelCase> cases;
  {
    RandomModelSpec s;
    s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2;
    s.n_expert = 4, s.n_expert_used = 1, s.n_ff_exp = 64, s.weight_type = GgmlType::F32,
    s.seed = 11;
    cases.push_back({"e4_top1_f32_gqa", s});
  }
  {
    RandomModelSpec s;
    s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 1, s.dense_layers = {1};
    s.n_ff = 96, s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 48;
    s.weight_type = GgmlType::F16, s.seed = 12;
    cases.push_back({"e8_top2_f16_mixed_mqa", s});
  }
  {
    RandomModelSpec s;
    s.n_embd = 64, s.n_layer = 2, s.n_head = 8, s.n_head_kv = 4;
    s.n_expert = 16, s.n_expert_used = 4, s.n_ff_exp = 32, s.attention_biases = true;
    s.tie_output = true, s.weight_type = GgmlType::BF16, s.seed = 13;
    cases.push_back({"e16_top4_bf16_biases_tied", s});
  }
  {
    RandomModelSpec s;
    s.n_embd = 64, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 4;
    s.n_expert = 64, s.n_expert_used = 8, s.n_ff_exp = 32, s.weight_type = GgmlType::Q8_0,
    s.seed = 14;
    cases.push_back({"e64_top8_q8_0", s});
  }
  {
    RandomModelSpec s;
    s.n_vocab = 300, s.n_embd = 64, s.n_layer = 3, s.n_head = 2, s.n_head_kv = 2,
    s.dense_layers = {0};
    s.n_ff = 128, s.n_expert = 32, s.n_expert_used = 3, s.n_ff_exp = 32, s.seed = 15;
    cases.push_back({"e32_top3_dense_first_f32", s});
  }
  {
    RandomModelSpec s;
    s.n_embd = 32, s.n_layer = 2, s.n_head = 4, s.n_head_kv = 2, s.dense_layers = {0, 1};
    s.n_ff = 64, s.seed = 16;
    cases.push_back({"dense_only_f32", s});
  }
  return cases;
}

// The invariants of one routing record, independent of any reference.
void expect_valid_record(const moe::RoutingRecord& record, int n_expert, int top_k) {
  ASSERT_EQ(record.logits.size(), static_cast<size_t>(n_expert));
  ASSERT_EQ(record.probs.size(), static_cast<size_t>(n_expert));
  ASSERT_EQ(record.experts.size(), static_cast<size_t>(top_k));
  ASSERT_EQ(record.weights.size(), static_cast<size_t>(top_k));
  EXPECT_NEAR(std::accumulate(record.probs.begin(), record.probs.end(), 0.0), 1.0, 1e-5);
  // Chosen = exactly the top-k of the probabilities, highest first, ties to the lower id.
  std::vector<int32_t> order(static_cast<size_t>(n_expert));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return record.probs[a] > record.probs[b]; });
  EXPECT_EQ(record.experts, std::vector<int32_t>(order.begin(), order.begin() + top_k));
  double chosen = 0;
  for (int32_t e : record.experts) chosen += record.probs[static_cast<size_t>(e)];
  double weight_sum = 0;
  for (int j = 0; j < top_k; ++j) {
    EXPECT_NEAR(record.weights[static_cast<size_t>(j)],
                record.probs[static_cast<size_t>(record.experts[static_cast<size_t>(j)])] / chosen,
                1e-6);
    weight_sum += record.weights[static_cast<size_t>(j)];
  }
  EXPECT_NEAR(weight_sum, 1.0, 1e-5);
}

class CpuBackendVsReference : public ::testing::TestWithParam<ModelCase> {};

TEST_P(CpuBackendVsReference, PrefillMatchesReference) {
  const RandomModelSpec& spec = GetParam().spec;
  const moe::testing::TempModelFile file(spec);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  const std::vector<int32_t> tokens = random_tokens(13, config.n_vocab, spec.seed);

  const moe::testing::ReferenceResult reference =
      moe::testing::reference_forward(model->file(), tokens);

  moe::CpuBackend backend({.n_threads = 2, .quantized_activations = false});
  auto state = backend.new_state(model, 32);
  moe::RoutingTrace trace(config.n_layer, config.n_expert, config.n_expert_used,
                          config.moe_layers());
  std::vector<float> logits;
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, logits, &trace);
  ASSERT_EQ(logits.size(), tokens.size() * static_cast<size_t>(config.n_vocab));
  EXPECT_EQ(state->n_filled(), static_cast<int>(tokens.size()));

  int exemptions = 0;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::span<const float> row(logits.data() + t * static_cast<size_t>(config.n_vocab),
                                     static_cast<size_t>(config.n_vocab));
    EXPECT_LE(moe::testing::max_relative_difference(row, reference.logits[t]), kLogitTolerance)
        << "position " << t;
    for (int layer = 0; layer < config.n_layer; ++layer) {
      const int position = static_cast<int>(t);
      if (!config.layer_is_moe[static_cast<size_t>(layer)]) {
        EXPECT_FALSE(trace.has(position, layer));
        continue;
      }
      ASSERT_TRUE(trace.has(position, layer));
      const moe::RoutingRecord& record = trace.at(position, layer);
      expect_valid_record(record, config.n_expert, config.n_expert_used);
      const moe::testing::ReferenceRouting& route =
          reference.routing[t][static_cast<size_t>(layer)];
      EXPECT_LE(moe::testing::max_relative_difference(record.logits, route.logits),
                kLogitTolerance);
      for (int e = 0; e < config.n_expert; ++e) {
        EXPECT_NEAR(record.probs[static_cast<size_t>(e)], route.probs[static_cast<size_t>(e)],
                    1e-5);
      }
      if (moe::testing::near_tie(route, config.n_expert_used, kTieWindow)) {
        ++exemptions;
        continue;
      }
      EXPECT_EQ(record.experts, route.experts) << "position " << t << " layer " << layer;
      for (size_t j = 0; j < route.weights.size(); ++j) {
        EXPECT_NEAR(record.weights[j], route.weights[j], 1e-5);
      }
    }
  }
  EXPECT_EQ(exemptions, 0) << "near ties in the reference; pick another seed for a sharper test";
}

TEST_P(CpuBackendVsReference, TokenByTokenDecodeMatchesBatchedPrefill) {
  const moe::testing::DecodeVsPrefill result = moe::testing::decode_vs_prefill(GetParam().spec, 16);
  ASSERT_EQ(result.logit_differences.size(), 10u);
  for (size_t t = 0; t < result.logit_differences.size(); ++t)
    EXPECT_LE(result.logit_differences[t], moe::testing::decode_tolerance(GetParam().spec))
        << "position " << t;
  EXPECT_TRUE(result.expert_mismatches.empty())
      << "experts differ at " << result.expert_mismatches.size() << " places, first "
      << result.expert_mismatches.front();
}

INSTANTIATE_TEST_SUITE_P(GeneratedModels, CpuBackendVsReference,
                         ::testing::ValuesIn(backend_cases()),
                         [](const auto& info) { return info.param.label; });

RandomModelSpec small_spec() {
  RandomModelSpec spec;
  spec.n_embd = 32, spec.n_layer = 2, spec.n_head = 4, spec.n_head_kv = 2;
  spec.n_expert = 8, spec.n_expert_used = 2, spec.n_ff_exp = 32, spec.seed = 21;
  return spec;
}

TEST(CpuBackend, LongSequenceAcrossCacheGrowthMatchesReference) {
  const moe::testing::TempModelFile file(small_spec());
  const auto model = file.load();
  const std::vector<int32_t> tokens = random_tokens(100, model->config().n_vocab, 5);
  const auto reference = moe::testing::reference_forward(model->file(), tokens);

  moe::CpuBackend backend({.n_threads = 2, .quantized_activations = false});
  auto state = backend.new_state(model, 128);
  std::vector<float> logits;
  // Three calls of uneven size, continuing the cache each time.
  backend.forward(*state, std::span(tokens).subspan(0, 50), 0, moe::LogitsMode::Last, logits,
                  nullptr);
  backend.forward(*state, std::span(tokens).subspan(50, 1), 50, moe::LogitsMode::Last, logits,
                  nullptr);
  backend.forward(*state, std::span(tokens).subspan(51), 51, moe::LogitsMode::Last, logits,
                  nullptr);
  EXPECT_LE(moe::testing::max_relative_difference(logits, reference.logits.back()),
            kLogitTolerance);
}

// Random Q4_0 blocks (f16 scale, 32 four-bit values): a type the writer cannot produce, so the
// bytes are made here. Scaled like the generator's weights: stddev about 1/sqrt(cols).
moe::testing::GgufEdit::Replacement random_q4_0(const moe::gguf::TensorInfo& tensor,
                                                std::mt19937_64& rng) {
  constexpr size_t kBlock = 32, kBlockBytes = 18;
  const double stddev_per_step = 4.6;  // stddev of (q - 8) for q uniform in 0..15
  const float scale =
      static_cast<float>(1.0 / (stddev_per_step * std::sqrt(static_cast<double>(tensor.dims[0]))));
  const uint16_t scale_bits = moe::f32_to_f16(scale);
  std::vector<uint8_t> data(static_cast<size_t>(tensor.n_elements) / kBlock * kBlockBytes);
  for (size_t at = 0; at < data.size(); at += kBlockBytes) {
    std::memcpy(&data[at], &scale_bits, 2);
    for (size_t j = 2; j < kBlockBytes; ++j) data[at + j] = static_cast<uint8_t>(rng());
  }
  return {moe::GgmlType::Q4_0, tensor.dims, std::move(data)};
}

TEST(CpuBackend, Q4_0WeightsMatchReference) {
  RandomModelSpec spec;
  spec.n_embd = 64, spec.n_layer = 2, spec.n_head = 4, spec.n_head_kv = 2, spec.dense_layers = {1};
  spec.n_ff = 64, spec.n_expert = 8, spec.n_expert_used = 2, spec.n_ff_exp = 32, spec.seed = 17;
  const std::vector<uint8_t> original = moe::build_random_model(spec).to_bytes();
  const auto source = moe::gguf::GgufFile::parse(original);
  moe::testing::GgufEdit edit;
  std::mt19937_64 rng(17);
  for (const auto& tensor : source.tensors()) {
    if (tensor.dims.size() >= 2) edit.replace_tensors[tensor.name] = random_q4_0(tensor, rng);
  }
  const std::vector<uint8_t> bytes = moe::testing::edited_gguf(source, edit);
  const auto model = moe::Model::from_file(moe::gguf::GgufFile::parse(bytes));
  ASSERT_EQ(model->layer(0).ffn_gate_exps->type, moe::GgmlType::Q4_0);

  const std::vector<int32_t> tokens = random_tokens(8, model->config().n_vocab, 8);
  const auto reference = moe::testing::reference_forward(model->file(), tokens);
  moe::CpuBackend backend({.n_threads = 2, .quantized_activations = false});
  auto state = backend.new_state(model, 16);
  std::vector<float> logits;
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, logits, nullptr);
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  for (size_t t = 0; t < tokens.size(); ++t) {
    EXPECT_LE(
        moe::testing::max_relative_difference(
            std::span<const float>(logits.data() + t * n_vocab, n_vocab), reference.logits[t]),
        kLogitTolerance);
  }
}

TEST(CpuBackend, ThreadCountDoesNotChangeResults) {
  // Bit for bit, whatever thread runs which task: the same prompt and seed must give the same
  // continuation on every run (a worker's scratch buffer alignment once changed the last bits).
  const moe::testing::TempModelFile file(small_spec());
  const auto model = file.load();
  const std::vector<int32_t> tokens = random_tokens(12, model->config().n_vocab, 6);
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    moe::CpuBackend backend({.n_threads = threads});
    EXPECT_EQ(backend.n_threads(), threads);
    for (int repeat = 0; repeat < 4; ++repeat) {
      auto state = backend.new_state(model, 16);
      std::vector<float> all, step;
      backend.forward(*state, std::span(tokens).subspan(0, 9), 0, moe::LogitsMode::All, all,
                      nullptr);
      for (int pos = 9; pos < 12; ++pos) {  // decode, one token at a time
        backend.forward(*state, std::span(tokens).subspan(static_cast<size_t>(pos), 1), pos,
                        moe::LogitsMode::Last, step, nullptr);
        all.insert(all.end(), step.begin(), step.end());
      }
      results.push_back(std::move(all));
    }
  }
  for (size_t i = 1; i < results.size(); ++i)
    EXPECT_EQ(results[i], results[0]) << "run " << i << " differs from the first";
}

TEST(CpuBackend, TraceCaptureDoesNotChangeLogitsAndLastModeIsTheLastRow) {
  const moe::testing::TempModelFile file(small_spec());
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  const std::vector<int32_t> tokens = random_tokens(7, config.n_vocab, 7);
  moe::CpuBackend backend({.n_threads = 2});

  auto state = backend.new_state(model, 16);
  moe::RoutingTrace trace(config.n_layer, config.n_expert, config.n_expert_used,
                          config.moe_layers());
  std::vector<float> traced, untraced, last;
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, traced, &trace);
  EXPECT_EQ(trace.n_tokens(), 7);
  backend.forward(*state, tokens, 0, moe::LogitsMode::All, untraced, nullptr);
  EXPECT_EQ(traced, untraced);
  backend.forward(*state, tokens, 0, moe::LogitsMode::Last, last, nullptr);
  ASSERT_EQ(last.size(), static_cast<size_t>(config.n_vocab));
  // Same values up to the summation order of a matrix-vector vs a matrix-matrix product.
  const std::span<const float> last_row(traced.end() - config.n_vocab, traced.end());
  EXPECT_LE(moe::testing::max_relative_difference(last, last_row), 1e-6);
}

TEST(CpuBackend, RejectsBadCallsWithMessagesAndKeepsTheCache) {
  const moe::testing::TempModelFile file(small_spec());
  const auto model = file.load();
  moe::CpuBackend backend({.n_threads = 1});
  auto state = backend.new_state(model, 8);
  std::vector<float> logits;
  const std::vector<int32_t> tokens = {1, 2, 3};
  backend.forward(*state, tokens, 0, moe::LogitsMode::Last, logits, nullptr);
  const std::vector<float> before = logits;

  const auto expect_error = [&](auto call, const std::string& fragment) {
    try {
      call();
      ADD_FAILURE() << "expected an error mentioning '" << fragment << "'";
    } catch (const moe::Error& error) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  };
  const std::vector<int32_t> bad_token = {999};
  expect_error(
      [&] { backend.forward(*state, bad_token, 3, moe::LogitsMode::Last, logits, nullptr); },
      "token id 999");
  expect_error([&] { backend.forward(*state, tokens, 5, moe::LogitsMode::Last, logits, nullptr); },
               "start position 5");
  const std::vector<int32_t> many(6, 1);
  expect_error([&] { backend.forward(*state, many, 3, moe::LogitsMode::Last, logits, nullptr); },
               "context overflow");
  moe::CpuBackend other({.n_threads = 1});
  expect_error([&] { other.forward(*state, tokens, 0, moe::LogitsMode::Last, logits, nullptr); },
               "not created by this CPU backend");
  expect_error([&] { backend.new_state(model, 0); }, "context size");

  EXPECT_EQ(state->n_filled(), 3);
  // Recomputing the last position from the kept cache gives the same logits as before.
  backend.forward(*state, std::span(tokens).subspan(2), 2, moe::LogitsMode::Last, logits, nullptr);
  EXPECT_LE(moe::testing::max_relative_difference(logits, before), 1e-6);
}

}  // namespace
