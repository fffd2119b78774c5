// Gradient checks of every training operation against central finite differences.
//
// All checks run in double precision: the operations are templates, and the double instances
// are the same code as the float ones the trainer runs. Each check builds a scalar
// L = Σ R ⊙ output (R fixed random), takes the analytic gradient from the backward pass with
// dout = R, and compares every input element with (L(x + h) − L(x − h)) / 2h, h = 1e-6.
// Tolerance: |analytic − numeric| ≤ 1e-6 · max(1, |analytic|, |numeric|) (central differences in
// double are accurate to ~1e-9 here, so a wrong formula cannot hide under it).
// Routing inputs are drawn so that the top-k choice is far from ties (the router is piecewise
// smooth; a tie would make the finite difference jump).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "moe/train_ops.hpp"

namespace moe::train {
namespace {

using Mat = Matrix<double>;
constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-6;

Mat random_matrix(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols, double scale = 1.0) {
  std::normal_distribution<double> normal(0.0, scale);
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

std::vector<double> random_vector(std::mt19937_64& rng, size_t n, double scale = 1.0,
                                  double mean = 0.0) {
  std::normal_distribution<double> normal(mean, scale);
  std::vector<double> v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

double dot(const Mat& a, const Mat& b) { return (a.array() * b.array()).sum(); }

// Compares analytic[i] with the central difference of `loss` in values[i], for every i.
void expect_gradient(double* values, size_t n, const double* analytic,
                     const std::function<double()>& loss, const std::string& what) {
  int failures = 0;
  for (size_t i = 0; i < n; ++i) {
    const double saved = values[i];
    values[i] = saved + kStep;
    const double up = loss();
    values[i] = saved - kStep;
    const double down = loss();
    values[i] = saved;
    const double numeric = (up - down) / (2 * kStep);
    const double scale = std::max({1.0, std::abs(analytic[i]), std::abs(numeric)});
    if (std::abs(analytic[i] - numeric) > kTolerance * scale && ++failures <= 5) {
      ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << ", numeric " << numeric;
    }
  }
  EXPECT_EQ(failures, 0) << what << ": " << failures << " of " << n << " elements differ";
}

void expect_gradient(Mat& values, const Mat& analytic, const std::function<double()>& loss,
                     const std::string& what) {
  ASSERT_EQ(values.rows(), analytic.rows());
  ASSERT_EQ(values.cols(), analytic.cols());
  expect_gradient(values.data(), static_cast<size_t>(values.size()), analytic.data(), loss, what);
}

void expect_gradient(std::vector<double>& values, const std::vector<double>& analytic,
                     const std::function<double()>& loss, const std::string& what) {
  ASSERT_EQ(values.size(), analytic.size());
  expect_gradient(values.data(), values.size(), analytic.data(), loss, what);
}

// Router logits whose sorted softmax scores are at least `gap` apart (no ties near the top-k cut).
Mat separated_logits(std::mt19937_64& rng, Eigen::Index rows, int n_expert) {
  Mat logits(rows, n_expert);
  std::vector<double> levels(static_cast<size_t>(n_expert));
  for (Eigen::Index t = 0; t < rows; ++t) {
    for (int e = 0; e < n_expert; ++e) levels[static_cast<size_t>(e)] = 0.4 * e;
    std::shuffle(levels.begin(), levels.end(), rng);
    std::uniform_real_distribution<double> jitter(-0.1, 0.1);
    for (int e = 0; e < n_expert; ++e) logits(t, e) = levels[static_cast<size_t>(e)] + jitter(rng);
  }
  return logits;
}

class TrainOps : public ::testing::TestWithParam<int> {  // parameter: thread count
protected:
  TrainOps() : parallel(GetParam()), rng(1234) {}
  ParallelTasks parallel;
  std::mt19937_64 rng;
};

TEST_P(TrainOps, Embedding) {
  const int n_vocab = 7, n_embd = 5;
  std::vector<double> table = random_vector(rng, n_vocab * n_embd);
  const std::vector<int32_t> ids = {3, 1, 3, 6, 0, 3};  // repeats add up
  const Mat r = random_matrix(rng, static_cast<Eigen::Index>(ids.size()), n_embd);
  const auto loss = [&] {
    Mat out;
    embedding_forward(table.data(), n_embd, ids, out);
    return dot(out, r);
  };
  std::vector<double> dtable(table.size(), 0.0);
  embedding_backward(r, ids, dtable.data());
  expect_gradient(table, dtable, loss, "dtable");
}

TEST_P(TrainOps, RmsNorm) {
  const int rows = 150, cols = 6;  // enough rows for several chunks
  Mat x = random_matrix(rng, rows, cols);
  std::vector<double> w = random_vector(rng, cols, 0.3, 1.0);
  const Mat r = random_matrix(rng, rows, cols);
  const double eps = 1e-5;
  const auto loss = [&] {
    Mat out;
    std::vector<double> rstd;
    rmsnorm_forward(parallel, x, w.data(), eps, out, rstd);
    return dot(out, r);
  };
  Mat out;
  std::vector<double> rstd;
  rmsnorm_forward(parallel, x, w.data(), eps, out, rstd);
  Mat dx = Mat::Zero(rows, cols);
  std::vector<double> dw(cols, 0.0);
  rmsnorm_backward(parallel, r, x, w.data(), rstd, dx, dw.data());
  expect_gradient(x, dx, loss, "dx");
  expect_gradient(w, dw, loss, "dweight");
}

TEST_P(TrainOps, Linear) {
  const int rows = 40, n_in = 7, n_out = 9;
  Mat x = random_matrix(rng, rows, n_in);
  std::vector<double> w = random_vector(rng, n_in * n_out);
  const Mat r = random_matrix(rng, rows, n_out);
  const auto loss = [&] {
    Mat y;
    linear_forward(parallel, x, w.data(), n_out, y);
    return dot(y, r);
  };
  Mat dx = Mat::Zero(rows, n_in);
  std::vector<double> dw(w.size(), 0.0);
  linear_backward(parallel, r, x, w.data(), &dx, dw.data());
  expect_gradient(x, dx, loss, "dx");
  expect_gradient(w, dw, loss, "dw");

  // y = x · wᵀ with w row-major [n_out, n_in], checked elementwise.
  Mat y;
  linear_forward(parallel, x, w.data(), n_out, y);
  double expected = 0;
  for (int i = 0; i < n_in; ++i) expected += x(3, i) * w[static_cast<size_t>(2 * n_in + i)];
  EXPECT_NEAR(y(3, 2), expected, 1e-12);
}

TEST_P(TrainOps, Rope) {
  const int n_seq = 2, seq_len = 9, n_heads = 3, head_dim = 6;
  Mat x = random_matrix(rng, n_seq * seq_len, n_heads * head_dim);
  const Mat r = random_matrix(rng, x.rows(), x.cols());
  const auto loss = [&] {
    Mat y = x;
    rope_forward(y, n_heads, head_dim, seq_len, 10000.0f);
    return dot(y, r);
  };
  Mat dx = r;
  rope_backward(dx, n_heads, head_dim, seq_len, 10000.0f);
  expect_gradient(x, dx, loss, "dx");

  // Adjacent pairs: element (2i, 2i+1) of a head at position p turns by p · base^(−2i/head_dim).
  Mat y = x;
  rope_forward(y, n_heads, head_dim, seq_len, 10000.0f);
  const int row = seq_len + 5, head = 1, i = 1;  // second sequence, position 5
  const double theta = 5 * std::pow(10000.0, -2.0 * i / head_dim);
  const double a = x(row, head * head_dim + 2 * i), b = x(row, head * head_dim + 2 * i + 1);
  EXPECT_NEAR(y(row, head * head_dim + 2 * i), a * std::cos(theta) - b * std::sin(theta), 1e-12);
  EXPECT_NEAR(y(row, head * head_dim + 2 * i + 1), a * std::sin(theta) + b * std::cos(theta),
              1e-12);
  EXPECT_EQ(y.row(0), x.row(0));  // position 0 is not rotated
}

void check_attention(ParallelTasks& parallel, std::mt19937_64& rng, const AttentionShape& s) {
  const Eigen::Index rows = s.n_seq * s.seq_len;
  Mat q = random_matrix(rng, rows, s.n_head * s.head_dim);
  Mat k = random_matrix(rng, rows, s.n_head_kv * s.head_dim);
  Mat v = random_matrix(rng, rows, s.n_head_kv * s.head_dim);
  const Mat r = random_matrix(rng, rows, s.n_head * s.head_dim);
  const auto loss = [&] {
    Mat out;
    AlignedVector<double> probs;
    attention_forward(parallel, q, k, v, s, out, probs);
    return dot(out, r);
  };
  Mat out;
  AlignedVector<double> probs;
  attention_forward(parallel, q, k, v, s, out, probs);
  Mat dq = Mat::Zero(q.rows(), q.cols()), dk = Mat::Zero(k.rows(), k.cols()),
      dv = Mat::Zero(v.rows(), v.cols());
  attention_backward(parallel, r, q, k, v, probs, s, dq, dk, dv);
  expect_gradient(q, dq, loss, "dq");
  expect_gradient(k, dk, loss, "dk");
  expect_gradient(v, dv, loss, "dv");

  // Against a direct evaluation of softmax(q kᵀ/√d + causal mask) v for the last sequence.
  const int seq = s.n_seq - 1, heads_per_kv = s.n_head / s.n_head_kv;
  for (int head = 0; head < s.n_head; ++head) {
    const int kv = head / heads_per_kv;
    for (int t = 0; t < s.seq_len; ++t) {
      const Eigen::Index row = seq * s.seq_len + t;
      std::vector<double> w(static_cast<size_t>(t + 1));
      double max_score = -1e300, sum = 0;
      for (int j = 0; j <= t; ++j) {
        double score = 0;
        for (int c = 0; c < s.head_dim; ++c)
          score += q(row, head * s.head_dim + c) * k(seq * s.seq_len + j, kv * s.head_dim + c);
        w[static_cast<size_t>(j)] = score / std::sqrt(static_cast<double>(s.head_dim));
        max_score = std::max(max_score, w[static_cast<size_t>(j)]);
      }
      for (double& x : w) sum += (x = std::exp(x - max_score));
      for (int c = 0; c < s.head_dim; ++c) {
        double expected = 0;
        for (int j = 0; j <= t; ++j)
          expected += w[static_cast<size_t>(j)] / sum * v(seq * s.seq_len + j, kv * s.head_dim + c);
        ASSERT_NEAR(out(row, head * s.head_dim + c), expected, 1e-12)
            << "head " << head << " position " << t;
      }
    }
  }
}

TEST_P(TrainOps, Attention) {
  check_attention(parallel, rng,
                  AttentionShape{2, 6, 4, 2, 4});  // two sequences, 2 heads per kv head
}

TEST_P(TrainOps, AttentionLongerThanOneCausalBlock) {
  check_attention(parallel, rng, AttentionShape{1, 70, 2, 1, 4});  // blocks of 64 query rows
}

TEST_P(TrainOps, RouterTopKRenormalized) {
  const int rows = 12, n_expert = 6, top_k = 2;
  Mat logits = separated_logits(rng, rows, n_expert);
  const Mat r_weights = random_matrix(rng, rows, top_k);
  const Mat r_probs = random_matrix(rng, rows, n_expert);
  const std::vector<double> r_lse = random_vector(rng, rows);
  RouterState<double> reference;
  router_forward(logits, top_k, reference);
  const auto loss = [&] {
    RouterState<double> state;
    router_forward(logits, top_k, state);
    EXPECT_EQ(state.experts, reference.experts) << "a finite-difference step changed the routing";
    double total = dot(state.weights, r_weights) + dot(state.probs, r_probs);
    for (int t = 0; t < rows; ++t)
      total += state.logsumexp[static_cast<size_t>(t)] * r_lse[static_cast<size_t>(t)];
    return total;
  };
  Mat dlogits = Mat::Zero(rows, n_expert);
  router_backward(reference, r_weights, &r_probs, &r_lse, dlogits);
  expect_gradient(logits, dlogits, loss, "dlogits");

  // The rule itself: top-k by score, highest first, weights renormalized to sum to 1.
  for (int t = 0; t < rows; ++t) {
    const int first = reference.experts[static_cast<size_t>(t * top_k)];
    const int second = reference.experts[static_cast<size_t>(t * top_k + 1)];
    Eigen::Index best = 0;
    reference.probs.row(t).maxCoeff(&best);
    EXPECT_EQ(first, best);
    EXPECT_GT(reference.probs(t, first), reference.probs(t, second));
    EXPECT_NEAR(reference.weights.row(t).sum(), 1.0, 1e-12);
    EXPECT_NEAR(reference.weights(t, 0) / reference.weights(t, 1),
                reference.probs(t, first) / reference.probs(t, second), 1e-9);
  }
}

TEST_P(TrainOps, RouterGateOnlyReachesChosenLogits) {
  const int rows = 4, n_expert = 5, top_k = 2;
  const Mat logits = separated_logits(rng, rows, n_expert);
  RouterState<double> state;
  router_forward(logits, top_k, state);
  Mat dlogits = Mat::Zero(rows, n_expert);
  const Mat dweights = random_matrix(rng, rows, top_k);
  router_backward<double>(state, dweights, nullptr, nullptr, dlogits);
  for (int t = 0; t < rows; ++t) {
    for (int e = 0; e < n_expert; ++e) {
      const bool chosen = std::count(state.experts.begin() + t * top_k,
                                     state.experts.begin() + (t + 1) * top_k, e) > 0;
      if (!chosen) {
        EXPECT_EQ(dlogits(t, e), 0.0);
      }
    }
  }
}

TEST_P(TrainOps, LoadBalanceLoss) {
  const int rows = 20, n_expert = 4, top_k = 2;
  Mat logits = separated_logits(rng, rows, n_expert);
  RouterState<double> reference;
  router_forward(logits, top_k, reference);
  const auto loss = [&] {
    RouterState<double> state;
    router_forward(logits, top_k, state);
    EXPECT_EQ(state.experts, reference.experts);
    return load_balance_loss_forward(state);
  };
  Mat dprobs = Mat::Zero(rows, n_expert);
  load_balance_loss_backward(reference, 1.0, dprobs);
  Mat dlogits = Mat::Zero(rows, n_expert);
  router_backward<double>(reference, Mat::Zero(rows, top_k), &dprobs, nullptr, dlogits);
  expect_gradient(logits, dlogits, loss, "dlogits");

  // Perfect balance (uniform scores, every expert chosen equally often) gives exactly 1.
  RouterState<double> uniform;
  uniform.top_k = 1;
  uniform.probs = Mat::Constant(8, 4, 0.25);
  uniform.experts = {0, 1, 2, 3, 0, 1, 2, 3};
  EXPECT_NEAR(load_balance_loss_forward(uniform), 1.0, 1e-12);
}

TEST_P(TrainOps, ZLoss) {
  const int rows = 10, n_expert = 5, top_k = 2;
  Mat logits = random_matrix(rng, rows, n_expert, 2.0);
  const auto loss = [&] {
    RouterState<double> state;
    router_forward(logits, top_k, state);
    return z_loss_forward(state);
  };
  RouterState<double> state;
  router_forward(logits, top_k, state);
  std::vector<double> dlse(rows, 0.0);
  z_loss_backward(state, 1.0, dlse);
  Mat dlogits = Mat::Zero(rows, n_expert);
  router_backward<double>(state, Mat::Zero(rows, top_k), nullptr, &dlse, dlogits);
  expect_gradient(logits, dlogits, loss, "dlogits");
  double expected = 0;
  for (int t = 0; t < rows; ++t) {
    const double lse = std::log(logits.row(t).array().exp().sum());
    expected += lse * lse / rows;
  }
  EXPECT_NEAR(z_loss_forward(state), expected, 1e-12);
}

TEST_P(TrainOps, SwigluExpert) {
  const int rows = 7, n_embd = 6, n_ff = 10;
  Mat x = random_matrix(rng, rows, n_embd);
  std::vector<double> wg = random_vector(rng, n_ff * n_embd, 0.5),
                      wu = random_vector(rng, n_ff * n_embd, 0.5),
                      wd = random_vector(rng, n_embd * n_ff, 0.5);
  const Mat r = random_matrix(rng, rows, n_embd);
  const auto loss = [&] {
    Mat gate, up, y;
    swiglu_forward(x, wg.data(), wu.data(), wd.data(), n_ff, gate, up, y);
    return dot(y, r);
  };
  Mat gate, up, y;
  swiglu_forward(x, wg.data(), wu.data(), wd.data(), n_ff, gate, up, y);
  Mat dx = Mat::Zero(rows, n_embd);
  std::vector<double> dwg(wg.size(), 0.0), dwu(wu.size(), 0.0), dwd(wd.size(), 0.0);
  swiglu_backward(r, x, gate, up, wg.data(), wu.data(), wd.data(), dx, dwg.data(), dwu.data(),
                  dwd.data());
  expect_gradient(x, dx, loss, "dx");
  expect_gradient(wg, dwg, loss, "dw_gate");
  expect_gradient(wu, dwu, loss, "dw_up");
  expect_gradient(wd, dwd, loss, "dw_down");
}

TEST_P(TrainOps, MoeLayer) {
  const MoeShape s{6, 8, 4, 2};
  const int rows = 16;
  Mat x = random_matrix(rng, rows, s.n_embd);
  // A large router keeps the top-k choice far from ties for these inputs (checked below).
  std::vector<double> router = random_vector(rng, s.n_expert * s.n_embd, 1.5);
  const size_t expert_size = static_cast<size_t>(s.n_expert * s.n_ff * s.n_embd);
  std::vector<double> gate = random_vector(rng, expert_size, 0.5),
                      up = random_vector(rng, expert_size, 0.5),
                      down = random_vector(rng, expert_size, 0.5);
  const Mat r = random_matrix(rng, rows, s.n_embd);
  const double lb_weight = 0.3, z_weight = 0.05;
  const MoeWeights<double> weights{router.data(), gate.data(), up.data(), down.data()};

  MoeState<double> reference;
  Mat out;
  moe_forward(parallel, x, weights, s, reference, out);
  // Margin between the k-th and (k+1)-th score of every row.
  for (int t = 0; t < rows; ++t) {
    std::vector<double> p(reference.router.probs.row(t).data(),
                          reference.router.probs.row(t).data() + s.n_expert);
    std::sort(p.rbegin(), p.rend());
    ASSERT_GT(p[1] - p[2], 1e-4) << "row " << t << " is too close to a routing tie for this check";
  }
  const auto loss = [&] {
    MoeState<double> state;
    Mat y;
    moe_forward(parallel, x, weights, s, state, y);
    EXPECT_EQ(state.router.experts, reference.router.experts);
    return dot(y, r) + lb_weight * state.load_balance_loss + z_weight * state.z_loss;
  };
  Mat dx = Mat::Zero(rows, s.n_embd);
  std::vector<double> drouter(router.size(), 0.0), dgate(expert_size, 0.0), dup(expert_size, 0.0),
      ddown(expert_size, 0.0);
  moe_backward(parallel, r, x, weights, s, reference, lb_weight, z_weight, dx,
               MoeGradients<double>{drouter.data(), dgate.data(), dup.data(), ddown.data()});
  expect_gradient(x, dx, loss, "dx");
  expect_gradient(router, drouter, loss, "drouter");
  expect_gradient(gate, dgate, loss, "dgate_exps");
  expect_gradient(up, dup, loss, "dup_exps");
  expect_gradient(down, ddown, loss, "ddown_exps");

  // Every assignment was served once.
  int64_t total = 0;
  for (int64_t count : reference.expert_counts) total += count;
  EXPECT_EQ(total, rows * s.top_k);
}

TEST_P(TrainOps, CrossEntropy) {
  const int rows = 40, n_vocab = 11;
  Mat logits = random_matrix(rng, rows, n_vocab, 2.0);
  std::vector<int32_t> targets(rows);
  for (int t = 0; t < rows; ++t) targets[static_cast<size_t>(t)] = (t * 7) % n_vocab;
  const auto loss = [&] {
    std::vector<double> lse;
    return cross_entropy_forward(parallel, logits, targets, lse);
  };
  std::vector<double> lse, row_loss;
  const double mean = cross_entropy_forward(parallel, logits, targets, lse, &row_loss);
  Mat dlogits;
  cross_entropy_backward(parallel, logits, targets, lse, 1.0, dlogits);
  expect_gradient(logits, dlogits, loss, "dlogits");
  const double first = std::log(logits.row(0).array().exp().sum()) - logits(0, targets[0]);
  EXPECT_NEAR(row_loss[0], first, 1e-12);
  double sum = 0;
  for (double l : row_loss) sum += l;
  EXPECT_NEAR(mean, sum / rows, 1e-12);
}

TEST_P(TrainOps, LmHeadAndCrossEntropy) {
  const int rows = 12, n_embd = 5, n_vocab = 9;
  Mat h = random_matrix(rng, rows, n_embd);
  std::vector<double> w = random_vector(rng, n_vocab * n_embd);
  std::vector<int32_t> targets(rows);
  for (int t = 0; t < rows; ++t) targets[static_cast<size_t>(t)] = (t * 5 + 1) % n_vocab;
  const auto loss = [&] {
    Mat logits;
    linear_forward(parallel, h, w.data(), n_vocab, logits);
    std::vector<double> lse;
    return cross_entropy_forward(parallel, logits, targets, lse);
  };
  Mat logits;
  linear_forward(parallel, h, w.data(), n_vocab, logits);
  std::vector<double> lse;
  cross_entropy_forward(parallel, logits, targets, lse);
  cross_entropy_backward(parallel, logits, targets, lse, 1.0, logits);  // in place
  Mat dh = Mat::Zero(rows, n_embd);
  std::vector<double> dw(w.size(), 0.0);
  linear_backward(parallel, logits, h, w.data(), &dh, dw.data());
  expect_gradient(h, dh, loss, "dh");
  expect_gradient(w, dw, loss, "dw_output");
}

INSTANTIATE_TEST_SUITE_P(Threads, TrainOps, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "_threads";
                         });

}  // namespace
}  // namespace moe::train
