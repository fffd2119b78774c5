// Linear map y = x · wᵀ (w row-major [n_out, n_in]) and its gradients:
//   dx = dy · w,   dw = dyᵀ · x.
// The forward pass and dx are split over blocks of rows (tokens); dw over blocks of its rows
// (outputs), so no two chunks ever write the same element.
#include <algorithm>

#include "moe/train_ops.hpp"

namespace moe::train {

namespace {

// Rows per chunk: at least ~1 M multiply-adds each, and at most 16 chunks.
int64_t min_chunk_rows(int64_t rows, int64_t work_per_row) {
  constexpr int64_t kMinWork = 1 << 20;
  const int64_t by_work = (kMinWork + work_per_row - 1) / std::max<int64_t>(work_per_row, 1);
  return std::max<int64_t>({by_work, (rows + 15) / 16, 1});
}

}  // namespace

template <typename T>
void linear_forward(ParallelTasks& parallel, const Matrix<T>& x, const T* w, int n_out,
                    Matrix<T>& y) {
  const ConstMatrixMap<T> weight(w, n_out, x.cols());
  y.resize(x.rows(), n_out);
  parallel.for_chunks(x.rows(), min_chunk_rows(x.rows(), x.cols() * n_out),
                      [&](int, int64_t begin, int64_t end) {
                        y.middleRows(begin, end - begin).noalias() =
                            x.middleRows(begin, end - begin) * weight.transpose();
                      });
}

template <typename T>
void linear_backward(ParallelTasks& parallel, const Matrix<T>& dy, const Matrix<T>& x, const T* w,
                     Matrix<T>* dx, T* dw) {
  const Eigen::Index n_out = dy.cols(), n_in = x.cols();
  const ConstMatrixMap<T> weight(w, n_out, n_in);
  if (dx != nullptr) {
    parallel.for_chunks(dy.rows(), min_chunk_rows(dy.rows(), n_in * n_out),
                        [&](int, int64_t begin, int64_t end) {
                          dx->middleRows(begin, end - begin).noalias() +=
                              dy.middleRows(begin, end - begin) * weight;
                        });
  }
  MatrixMap<T> dweight(dw, n_out, n_in);
  parallel.for_chunks(n_out, min_chunk_rows(n_out, dy.rows() * n_in),
                      [&](int, int64_t begin, int64_t end) {
                        dweight.middleRows(begin, end - begin).noalias() +=
                            dy.middleCols(begin, end - begin).transpose() * x;
                      });
}

#define MOE_INSTANTIATE(T)                                                                       \
  template void linear_forward<T>(ParallelTasks&, const Matrix<T>&, const T*, int, Matrix<T>&);  \
  template void linear_backward<T>(ParallelTasks&, const Matrix<T>&, const Matrix<T>&, const T*, \
                                   Matrix<T>*, T*);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
