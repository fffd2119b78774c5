// The routed-experts FFN layer. Forward: router logits, router rule, then each expert once on
// the rows that chose it (gathered into one matrix, so its GEMMs are batched), outputs mixed by
// gate weight. Backward: per expert the SwiGLU backward on its rows (experts in parallel, each
// writing only its own weight slices and its own rows buffer), then the rows' gradients are
// scattered back in expert order, and the router gets the gate-weight, load-balance and z-loss
// gradients.
#include <algorithm>
#include <numeric>

#include "moe/train_ops.hpp"

namespace moe::train {

namespace {

// Experts by descending load (ties by id): the longest tasks start first.
std::vector<int> schedule_order(const std::vector<std::vector<int64_t>>& assignments) {
  std::vector<int> order(assignments.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return assignments[static_cast<size_t>(a)].size() > assignments[static_cast<size_t>(b)].size();
  });
  return order;
}

template <typename T>
void gather_rows(const Matrix<T>& x, const std::vector<int64_t>& assignments, int top_k,
                 Matrix<T>& out) {
  out.resize(static_cast<Eigen::Index>(assignments.size()), x.cols());
  for (size_t i = 0; i < assignments.size(); ++i) {
    out.row(static_cast<Eigen::Index>(i)) = x.row(assignments[i] / top_k);
  }
}

size_t expert_offset(int expert, const MoeShape& shape) {
  return static_cast<size_t>(expert) * static_cast<size_t>(shape.n_ff) *
         static_cast<size_t>(shape.n_embd);
}

}  // namespace

template <typename T>
void moe_forward(ParallelTasks& parallel, const Matrix<T>& x, const MoeWeights<T>& weights,
                 const MoeShape& shape, MoeState<T>& state, Matrix<T>& out) {
  const Eigen::Index rows = x.rows();
  const int k = shape.top_k;
  linear_forward(parallel, x, weights.router, shape.n_expert, state.router_logits);
  router_forward(state.router_logits, k, state.router);

  state.assignments.assign(static_cast<size_t>(shape.n_expert), {});
  for (int64_t a = 0; a < rows * k; ++a) {
    state.assignments[static_cast<size_t>(state.router.experts[static_cast<size_t>(a)])].push_back(
        a);
  }
  state.expert_counts.resize(static_cast<size_t>(shape.n_expert));
  for (int e = 0; e < shape.n_expert; ++e) {
    state.expert_counts[static_cast<size_t>(e)] =
        static_cast<int64_t>(state.assignments[static_cast<size_t>(e)].size());
  }

  state.gate.resize(static_cast<size_t>(shape.n_expert));
  state.up.resize(static_cast<size_t>(shape.n_expert));
  state.y.resize(static_cast<size_t>(shape.n_expert));
  const std::vector<int> order = schedule_order(state.assignments);
  parallel.run(shape.n_expert, [&](int task) {
    const int e = order[static_cast<size_t>(task)];
    const size_t ue = static_cast<size_t>(e);
    const std::vector<int64_t>& assigned = state.assignments[ue];
    Matrix<T> x_e;
    gather_rows(x, assigned, k, x_e);
    const size_t offset = expert_offset(e, shape);
    swiglu_forward(x_e, weights.gate + offset, weights.up + offset, weights.down + offset,
                   shape.n_ff, state.gate[ue], state.up[ue], state.y[ue]);
  });

  // Each row sums its experts in expert-id order, as the engine does.
  out.setZero(rows, shape.n_embd);
  for (int e = 0; e < shape.n_expert; ++e) {
    const size_t ue = static_cast<size_t>(e);
    const std::vector<int64_t>& assigned = state.assignments[ue];
    for (size_t i = 0; i < assigned.size(); ++i) {
      const int64_t t = assigned[i] / k, j = assigned[i] % k;
      out.row(t) += state.router.weights(t, j) * state.y[ue].row(static_cast<Eigen::Index>(i));
    }
  }
  state.load_balance_loss = load_balance_loss_forward(state.router);
  state.z_loss = z_loss_forward(state.router);
}

template <typename T>
void moe_backward(ParallelTasks& parallel, const Matrix<T>& dout, const Matrix<T>& x,
                  const MoeWeights<T>& weights, const MoeShape& shape, const MoeState<T>& state,
                  T load_balance_grad, T z_grad, Matrix<T>& dx, const MoeGradients<T>& grads) {
  const Eigen::Index rows = x.rows();
  const int k = shape.top_k;
  Matrix<T> dweights = Matrix<T>::Zero(rows, k);
  std::vector<Matrix<T>> dx_expert(static_cast<size_t>(shape.n_expert));
  const std::vector<int> order = schedule_order(state.assignments);
  parallel.run(shape.n_expert, [&](int task) {
    const int e = order[static_cast<size_t>(task)];
    const size_t ue = static_cast<size_t>(e);
    const std::vector<int64_t>& assigned = state.assignments[ue];
    if (assigned.empty()) return;
    const Eigen::Index n = static_cast<Eigen::Index>(assigned.size());
    Matrix<T> x_e, dy_e(n, shape.n_embd);
    gather_rows(x, assigned, k, x_e);
    for (Eigen::Index i = 0; i < n; ++i) {
      const int64_t t = assigned[static_cast<size_t>(i)] / k,
                    j = assigned[static_cast<size_t>(i)] % k;
      dweights(t, j) = dout.row(t).dot(state.y[ue].row(i));  // each (t, j) belongs to one expert
      dy_e.row(i) = state.router.weights(t, j) * dout.row(t);
    }
    Matrix<T>& dx_e = dx_expert[ue];
    dx_e.setZero(n, shape.n_embd);
    const size_t offset = expert_offset(e, shape);
    swiglu_backward(dy_e, x_e, state.gate[ue], state.up[ue], weights.gate + offset,
                    weights.up + offset, weights.down + offset, dx_e, grads.gate + offset,
                    grads.up + offset, grads.down + offset);
  });
  for (int e = 0; e < shape.n_expert; ++e) {
    const size_t ue = static_cast<size_t>(e);
    const std::vector<int64_t>& assigned = state.assignments[ue];
    for (size_t i = 0; i < assigned.size(); ++i) {
      dx.row(assigned[i] / k) += dx_expert[ue].row(static_cast<Eigen::Index>(i));
    }
  }

  Matrix<T> dprobs;
  std::vector<T> dlogsumexp;
  if (load_balance_grad != T(0)) {
    dprobs.setZero(rows, shape.n_expert);
    load_balance_loss_backward(state.router, load_balance_grad, dprobs);
  }
  if (z_grad != T(0)) {
    dlogsumexp.assign(static_cast<size_t>(rows), T(0));
    z_loss_backward(state.router, z_grad, dlogsumexp);
  }
  Matrix<T> dlogits = Matrix<T>::Zero(rows, shape.n_expert);
  router_backward(state.router, dweights, load_balance_grad != T(0) ? &dprobs : nullptr,
                  z_grad != T(0) ? &dlogsumexp : nullptr, dlogits);
  linear_backward(parallel, dlogits, x, weights.router, &dx, grads.router);
}

#define MOE_INSTANTIATE(T)                                                                       \
  template void moe_forward<T>(ParallelTasks&, const Matrix<T>&, const MoeWeights<T>&,           \
                               const MoeShape&, MoeState<T>&, Matrix<T>&);                       \
  template void moe_backward<T>(ParallelTasks&, const Matrix<T>&, const Matrix<T>&,              \
                                const MoeWeights<T>&, const MoeShape&, const MoeState<T>&, T, T, \
                                Matrix<T>&, const MoeGradients<T>&);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
