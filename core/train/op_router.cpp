// The router: softmax scores, top-k with renormalized gate weights, and the two auxiliary
// losses that act on it (load balancing, z-loss).
//
// Gradients:
// - gate weights w = softmax of the chosen logits, so for chosen i: dz_i = w_i (dw_i − Σ_j w_j
// dw_j)
//   (unchosen logits get nothing from this path);
// - scores p = softmax(z): dz_e = p_e (dp_e − Σ_i p_i dp_i);
// - logsumexp(z): dz_e = dlse · p_e.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "moe/train_ops.hpp"

namespace moe::train {

template <typename T>
void router_forward(const Matrix<T>& logits, int top_k, RouterState<T>& state) {
  const Eigen::Index rows = logits.rows(), n_expert = logits.cols();
  state.top_k = top_k;
  state.probs.resize(rows, n_expert);
  state.logsumexp.resize(static_cast<size_t>(rows));
  state.experts.resize(static_cast<size_t>(rows * top_k));
  state.weights.resize(rows, top_k);
  std::vector<int32_t> order(static_cast<size_t>(n_expert));
  for (Eigen::Index t = 0; t < rows; ++t) {
    // Same arithmetic as the engine: shifted exponentials, their sum in double.
    const T max_logit = logits.row(t).maxCoeff();
    double sum = 0;
    for (Eigen::Index e = 0; e < n_expert; ++e) {
      state.probs(t, e) = std::exp(logits(t, e) - max_logit);
      sum += static_cast<double>(state.probs(t, e));
    }
    for (Eigen::Index e = 0; e < n_expert; ++e) {
      state.probs(t, e) = static_cast<T>(static_cast<double>(state.probs(t, e)) / sum);
    }
    state.logsumexp[static_cast<size_t>(t)] = max_logit + static_cast<T>(std::log(sum));

    std::iota(order.begin(), order.end(), 0);
    const auto higher = [&](int32_t a, int32_t b) {
      return state.probs(t, a) > state.probs(t, b) ||
             (state.probs(t, a) == state.probs(t, b) && a < b);
    };
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(), higher);
    double chosen_sum = 0;
    for (int j = 0; j < top_k; ++j)
      chosen_sum += static_cast<double>(state.probs(t, order[static_cast<size_t>(j)]));
    for (int j = 0; j < top_k; ++j) {
      const int32_t expert = order[static_cast<size_t>(j)];
      state.experts[static_cast<size_t>(t * top_k + j)] = expert;
      state.weights(t, j) =
          static_cast<T>(static_cast<double>(state.probs(t, expert)) / chosen_sum);
    }
  }
}

template <typename T>
void router_backward(const RouterState<T>& state, const Matrix<T>& dweights,
                     const Matrix<T>* dprobs, const std::vector<T>* dlogsumexp,
                     Matrix<T>& dlogits) {
  const Eigen::Index rows = state.probs.rows();
  const int top_k = state.top_k;
  for (Eigen::Index t = 0; t < rows; ++t) {
    T weighted = 0;
    for (int j = 0; j < top_k; ++j) weighted += state.weights(t, j) * dweights(t, j);
    for (int j = 0; j < top_k; ++j) {
      const int32_t expert = state.experts[static_cast<size_t>(t * top_k + j)];
      dlogits(t, expert) += state.weights(t, j) * (dweights(t, j) - weighted);
    }
    const auto p = state.probs.row(t);
    if (dprobs != nullptr) {
      const T dot = p.dot(dprobs->row(t));
      dlogits.row(t) += (p.array() * (dprobs->row(t).array() - dot)).matrix();
    }
    if (dlogsumexp != nullptr) dlogits.row(t) += (*dlogsumexp)[static_cast<size_t>(t)] * p;
  }
}

namespace {

template <typename T>
std::vector<T> assignment_fractions(const RouterState<T>& state) {
  std::vector<T> fraction(static_cast<size_t>(state.probs.cols()), T(0));
  for (int32_t expert : state.experts) fraction[static_cast<size_t>(expert)] += T(1);
  for (T& f : fraction) f /= static_cast<T>(state.experts.size());
  return fraction;
}

}  // namespace

template <typename T>
T load_balance_loss_forward(const RouterState<T>& state) {
  if (state.probs.rows() == 0) return T(0);
  const std::vector<T> fraction = assignment_fractions(state);
  const Eigen::Index n_expert = state.probs.cols();
  T loss = 0;
  for (Eigen::Index e = 0; e < n_expert; ++e) {
    const T mean_prob = state.probs.col(e).sum() / static_cast<T>(state.probs.rows());
    loss += fraction[static_cast<size_t>(e)] * mean_prob;
  }
  return static_cast<T>(n_expert) * loss;
}

template <typename T>
void load_balance_loss_backward(const RouterState<T>& state, T dloss, Matrix<T>& dprobs) {
  if (state.probs.rows() == 0) return;
  const std::vector<T> fraction = assignment_fractions(state);
  const Eigen::Index n_expert = state.probs.cols(), rows = state.probs.rows();
  const T scale = dloss * static_cast<T>(n_expert) / static_cast<T>(rows);
  for (Eigen::Index e = 0; e < n_expert; ++e) {
    dprobs.col(e).array() += scale * fraction[static_cast<size_t>(e)];
  }
}

template <typename T>
T z_loss_forward(const RouterState<T>& state) {
  if (state.logsumexp.empty()) return T(0);
  T sum = 0;
  for (T lse : state.logsumexp) sum += lse * lse;
  return sum / static_cast<T>(state.logsumexp.size());
}

template <typename T>
void z_loss_backward(const RouterState<T>& state, T dloss, std::vector<T>& dlogsumexp) {
  const T scale = dloss * T(2) / static_cast<T>(std::max<size_t>(state.logsumexp.size(), 1));
  for (size_t t = 0; t < state.logsumexp.size(); ++t) dlogsumexp[t] += scale * state.logsumexp[t];
}

#define MOE_INSTANTIATE(T)                                                                    \
  template void router_forward<T>(const Matrix<T>&, int, RouterState<T>&);                    \
  template void router_backward<T>(const RouterState<T>&, const Matrix<T>&, const Matrix<T>*, \
                                   const std::vector<T>*, Matrix<T>&);                        \
  template T load_balance_loss_forward<T>(const RouterState<T>&);                             \
  template void load_balance_loss_backward<T>(const RouterState<T>&, T, Matrix<T>&);          \
  template T z_loss_forward<T>(const RouterState<T>&);                                        \
  template void z_loss_backward<T>(const RouterState<T>&, T, std::vector<T>&);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
