// One SwiGLU expert: g = x W_gᵀ, u = x W_uᵀ, a = silu(g) ⊙ u, y = a W_dᵀ, silu(g) = g·σ(g).
// Backward: da = dy W_d, dW_d = dyᵀ a, dg = da ⊙ u ⊙ σ(g)(1 + g(1 − σ(g))), du = da ⊙ silu(g),
// dx = dg W_g + du W_u, dW_g = dgᵀ x, dW_u = duᵀ x.
#include <cmath>

#include "moe/train_ops.hpp"

namespace moe::train {

template <typename T>
void swiglu_forward(const Matrix<T>& x, const T* w_gate, const T* w_up, const T* w_down, int n_ff,
                    Matrix<T>& gate, Matrix<T>& up, Matrix<T>& y) {
  const Eigen::Index n_embd = x.cols();
  gate.noalias() = x * ConstMatrixMap<T>(w_gate, n_ff, n_embd).transpose();
  up.noalias() = x * ConstMatrixMap<T>(w_up, n_ff, n_embd).transpose();
  // silu written as g / (1 + e^−g), like the engine.
  const Matrix<T> act = (gate.array() / (T(1) + (-gate.array()).exp()) * up.array()).matrix();
  y.noalias() = act * ConstMatrixMap<T>(w_down, n_embd, n_ff).transpose();
}

template <typename T>
void swiglu_backward(const Matrix<T>& dy, const Matrix<T>& x, const Matrix<T>& gate,
                     const Matrix<T>& up, const T* w_gate, const T* w_up, const T* w_down,
                     Matrix<T>& dx, T* dw_gate, T* dw_up, T* dw_down) {
  const Eigen::Index n_embd = x.cols(), n_ff = gate.cols();
  const ConstMatrixMap<T> wg(w_gate, n_ff, n_embd), wu(w_up, n_ff, n_embd),
      wd(w_down, n_embd, n_ff);
  const auto g = gate.array();
  const Matrix<T> sigmoid = (T(1) / (T(1) + (-g).exp())).matrix();
  const auto s = sigmoid.array();
  const Matrix<T> silu = (g * s).matrix();
  const Matrix<T> act = (silu.array() * up.array()).matrix();

  MatrixMap<T>(dw_down, n_embd, n_ff).noalias() += dy.transpose() * act;
  const Matrix<T> dact = dy * wd;
  const Matrix<T> dgate = (dact.array() * up.array() * s * (T(1) + g * (T(1) - s))).matrix();
  const Matrix<T> dup = (dact.array() * silu.array()).matrix();
  dx.noalias() += dgate * wg;
  dx.noalias() += dup * wu;
  MatrixMap<T>(dw_gate, n_ff, n_embd).noalias() += dgate.transpose() * x;
  MatrixMap<T>(dw_up, n_ff, n_embd).noalias() += dup.transpose() * x;
}

#define MOE_INSTANTIATE(T)                                                                         \
  template void swiglu_forward<T>(const Matrix<T>&, const T*, const T*, const T*, int, Matrix<T>&, \
                                  Matrix<T>&, Matrix<T>&);                                         \
  template void swiglu_backward<T>(const Matrix<T>&, const Matrix<T>&, const Matrix<T>&,           \
                                   const Matrix<T>&, const T*, const T*, const T*, Matrix<T>&, T*, \
                                   T*, T*);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
