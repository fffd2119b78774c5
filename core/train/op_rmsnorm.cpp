// RMSNorm: out = x · rstd ⊙ w with rstd = 1/sqrt(mean(x²) + eps), per row.
//
// Backward, with g = dout ⊙ w and d = n_embd:
//   dx = rstd · g − x · rstd³ / d · Σ_j g_j x_j
//   dw = Σ_rows dout ⊙ x · rstd
#include <cmath>

#include "moe/train_ops.hpp"

namespace moe::train {

namespace {
constexpr int64_t kMinRows = 64;
}

template <typename T>
void rmsnorm_forward(ParallelTasks& parallel, const Matrix<T>& x, const T* weight, T eps,
                     Matrix<T>& out, std::vector<T>& rstd) {
  const Eigen::Index cols = x.cols();
  out.resize(x.rows(), cols);
  rstd.resize(static_cast<size_t>(x.rows()));
  const Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>> w(weight, cols);
  parallel.for_chunks(x.rows(), kMinRows, [&](int, int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const T mean_square = x.row(t).squaredNorm() / static_cast<T>(cols);
      const T scale = T(1) / std::sqrt(mean_square + eps);
      rstd[static_cast<size_t>(t)] = scale;
      out.row(t) = (x.row(t) * scale).cwiseProduct(w);
    }
  });
}

template <typename T>
void rmsnorm_backward(ParallelTasks& parallel, const Matrix<T>& dout, const Matrix<T>& x,
                      const T* weight, const std::vector<T>& rstd, Matrix<T>& dx, T* dweight) {
  using Row = Eigen::Matrix<T, 1, Eigen::Dynamic>;
  const Eigen::Index cols = x.cols();
  const Eigen::Map<const Row> w(weight, cols);
  std::vector<Row> partial(64, Row::Zero(cols));  // one weight-gradient sum per chunk
  const int n_chunks =
      parallel.for_chunks(x.rows(), kMinRows, [&](int chunk, int64_t begin, int64_t end) {
        Row& dw = partial[static_cast<size_t>(chunk)];
        for (int64_t t = begin; t < end; ++t) {
          const T r = rstd[static_cast<size_t>(t)];
          const Row g = dout.row(t).cwiseProduct(w);
          const T g_dot_x = g.dot(x.row(t));
          dx.row(t) += r * g - x.row(t) * (r * r * r / static_cast<T>(cols) * g_dot_x);
          dw += dout.row(t).cwiseProduct(x.row(t)) * r;
        }
      });
  Eigen::Map<Row> dw_total(dweight, cols);
  for (int chunk = 0; chunk < n_chunks; ++chunk) dw_total += partial[static_cast<size_t>(chunk)];
}

#define MOE_INSTANTIATE(T)                                                                        \
  template void rmsnorm_forward<T>(ParallelTasks&, const Matrix<T>&, const T*, T, Matrix<T>&,     \
                                   std::vector<T>&);                                              \
  template void rmsnorm_backward<T>(ParallelTasks&, const Matrix<T>&, const Matrix<T>&, const T*, \
                                    const std::vector<T>&, Matrix<T>&, T*);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
