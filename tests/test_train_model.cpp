// The whole trainable model: gradient check of every parameter against finite differences
// (double precision, same tolerance as test_train_ops: 1e-6 relative), the float instance
// against the double one, and bit-identical results for any number of threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "moe/train_model.hpp"

namespace moe::train {
namespace {

ModelShape tiny_shape(bool tied) {
  ModelShape s;
  s.n_vocab = 23;
  s.n_ctx = 8;
  s.n_embd = 8;
  s.n_layer = 2;
  s.n_head = 2;
  s.n_head_kv = 1;
  s.n_ff_exp = 6;
  s.n_expert = 4;
  s.top_k = 2;
  s.tied_output = tied;
  return s;
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, size_t n, int n_vocab) {
  std::uniform_int_distribution<int32_t> pick(0, n_vocab - 1);
  std::vector<int32_t> tokens(n);
  for (int32_t& t : tokens) t = pick(rng);
  return tokens;
}

// Parameters from the trainer's initialization, with routers scaled up so that routing is
// decisive (no near-ties that a finite-difference step could flip).
std::vector<float> test_params(const ParameterLayout& layout, uint64_t seed) {
  std::vector<float> params(layout.size());
  init_parameters(layout, seed, params);
  std::mt19937_64 rng(seed + 7);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  for (const ParameterTensor& tensor : layout.tensors()) {
    float* data = params.data() + tensor.offset;
    const bool router = tensor.name.find("ffn_gate_inp") != std::string::npos;
    for (size_t i = 0; i < tensor.size; ++i) {
      if (router) data[i] *= 40.0f;
      if (tensor.is_norm) data[i] += normal(rng);  // norms away from exactly 1
    }
  }
  return params;
}

class WholeModel : public ::testing::TestWithParam<bool> {};  // parameter: tied head

TEST_P(WholeModel, GradientMatchesFiniteDifferences) {
  const ParameterLayout layout(tiny_shape(GetParam()));
  const std::vector<float> init = test_params(layout, 11);
  std::vector<double> params(init.begin(), init.end());
  std::mt19937_64 rng(5);
  const int n_seq = 2, seq_len = 6;
  const std::vector<int32_t> tokens = random_tokens(rng, n_seq * seq_len, layout.shape().n_vocab);
  const std::vector<int32_t> targets = random_tokens(rng, n_seq * seq_len, layout.shape().n_vocab);
  const LossWeights weights{0.1, 0.01};  // both auxiliary losses take part
  ParallelTasks parallel(2);
  Transformer<double> model(layout, parallel);

  const ForwardStats reference =
      model.forward(params.data(), tokens, targets, n_seq, seq_len, weights);
  std::vector<double> grads(layout.size(), 0.0);
  model.backward(params.data(), grads.data(), 1.0);
  EXPECT_GT(reference.load_balance, 0.0);
  EXPECT_GT(reference.z_loss, 0.0);

  int failures = 0;
  constexpr double kStep = 1e-6, kTolerance = 1e-6;
  for (const ParameterTensor& tensor : layout.tensors()) {
    for (size_t i = tensor.offset; i < tensor.offset + tensor.size; ++i) {
      const double saved = params[i];
      params[i] = saved + kStep;
      const ForwardStats up =
          model.forward(params.data(), tokens, targets, n_seq, seq_len, weights);
      params[i] = saved - kStep;
      const ForwardStats down =
          model.forward(params.data(), tokens, targets, n_seq, seq_len, weights);
      params[i] = saved;
      ASSERT_EQ(up.expert_counts, reference.expert_counts) << "routing flipped at " << tensor.name;
      ASSERT_EQ(down.expert_counts, reference.expert_counts)
          << "routing flipped at " << tensor.name;
      const double numeric = (up.total - down.total) / (2 * kStep);
      const double scale = std::max({1.0, std::abs(numeric), std::abs(grads[i])});
      if (std::abs(numeric - grads[i]) > kTolerance * scale && ++failures <= 10) {
        ADD_FAILURE() << tensor.name << "[" << i - tensor.offset << "]: analytic " << grads[i]
                      << ", numeric " << numeric;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST_P(WholeModel, FloatAgreesWithDouble) {
  const ParameterLayout layout(tiny_shape(GetParam()));
  const std::vector<float> params_f = test_params(layout, 3);
  const std::vector<double> params_d(params_f.begin(), params_f.end());
  std::mt19937_64 rng(9);
  const int n_seq = 3, seq_len = 8;
  const std::vector<int32_t> tokens = random_tokens(rng, n_seq * seq_len, layout.shape().n_vocab);
  const std::vector<int32_t> targets = random_tokens(rng, n_seq * seq_len, layout.shape().n_vocab);
  ParallelTasks parallel(2);
  Transformer<float> model_f(layout, parallel);
  Transformer<double> model_d(layout, parallel);
  const ForwardStats f = model_f.forward(params_f.data(), tokens, targets, n_seq, seq_len, {});
  const ForwardStats d = model_d.forward(params_d.data(), tokens, targets, n_seq, seq_len, {});
  EXPECT_EQ(f.expert_counts, d.expert_counts);
  EXPECT_NEAR(f.total, d.total, 1e-5 * std::abs(d.total));
  std::vector<float> grads_f(layout.size(), 0.0f);
  std::vector<double> grads_d(layout.size(), 0.0);
  model_f.backward(params_f.data(), grads_f.data(), 1.0f);
  model_d.backward(params_d.data(), grads_d.data(), 1.0);
  for (const ParameterTensor& tensor : layout.tensors()) {
    double diff = 0, norm = 0;
    for (size_t i = tensor.offset; i < tensor.offset + tensor.size; ++i) {
      diff += (grads_f[i] - grads_d[i]) * (grads_f[i] - grads_d[i]);
      norm += grads_d[i] * grads_d[i];
    }
    EXPECT_LE(std::sqrt(diff), 1e-4 * std::sqrt(norm) + 1e-9) << tensor.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Head, WholeModel, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "tied" : "untied";
                         });

TEST(TrainModel, BitIdenticalForAnyThreadCount) {
  ModelShape shape = tiny_shape(false);
  shape.n_embd = 64;
  shape.n_head = 4;
  shape.n_head_kv = 2;
  shape.n_ff_exp = 48;
  shape.n_vocab = 300;
  shape.n_ctx = 32;
  const ParameterLayout layout(shape);
  std::vector<float> params(layout.size());
  init_parameters(layout, 1, params);
  std::mt19937_64 rng(2);
  const int n_seq = 8, seq_len = 32;
  const std::vector<int32_t> tokens = random_tokens(rng, n_seq * seq_len, shape.n_vocab);
  const std::vector<int32_t> targets = random_tokens(rng, n_seq * seq_len, shape.n_vocab);
  std::vector<std::vector<float>> grads;
  for (int threads : {1, 2, 3}) {
    ParallelTasks parallel(threads);
    Transformer<float> model(layout, parallel);
    model.forward(params.data(), tokens, targets, n_seq, seq_len, {});
    grads.emplace_back(layout.size(), 0.0f);
    model.backward(params.data(), grads.back().data(), 1.0f);
  }
  EXPECT_EQ(std::memcmp(grads[0].data(), grads[1].data(), grads[0].size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(grads[0].data(), grads[2].data(), grads[0].size() * sizeof(float)), 0);
}

TEST(TrainModel, LayoutMatchesGgufShapes) {
  ModelShape shape = tiny_shape(false);
  const ParameterLayout layout(shape);
  const ParameterTensor* q = layout.find("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dims, (std::vector<uint64_t>{8, 8}));
  const ParameterTensor* k = layout.find("blk.1.attn_k.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->dims, (std::vector<uint64_t>{8, 4}));  // one kv head of 4
  const ParameterTensor* down = layout.find("blk.0.ffn_down_exps.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->dims, (std::vector<uint64_t>{6, 8, 4}));
  EXPECT_NE(layout.find("output.weight"), nullptr);
  shape.tied_output = true;
  const ParameterLayout tied(shape);
  EXPECT_EQ(tied.find("output.weight"), nullptr);
  EXPECT_EQ(tied.output, tied.token_embd);
  size_t total = 0;
  for (const ParameterTensor& tensor : tied.tensors()) total += tensor.size;
  EXPECT_EQ(total, tied.size());
}

TEST(TrainModel, RejectsBadInput) {
  ModelShape shape = tiny_shape(true);
  shape.n_head = 3;
  EXPECT_THROW(ParameterLayout{shape}, std::runtime_error);
  const ParameterLayout layout(tiny_shape(true));
  std::vector<float> params(layout.size());
  init_parameters(layout, 1, params);
  ParallelTasks parallel(1);
  Transformer<float> model(layout, parallel);
  const std::vector<int32_t> bad = {1, 2, 99};
  EXPECT_THROW(model.forward(params.data(), bad, {}, 1, 3, {}), std::runtime_error);
  const std::vector<int32_t> too_long(9, 1);
  EXPECT_THROW(model.forward(params.data(), too_long, {}, 1, 9, {}), std::runtime_error);
}

}  // namespace
}  // namespace moe::train
