// Softmax cross-entropy: loss_t = logsumexp(l_t) − l_t[y_t], averaged over rows.
// Backward: dl_t = (softmax(l_t) − onehot(y_t)) · dloss / rows.
#include <cmath>

#include "moe/train_ops.hpp"

namespace moe::train {

namespace {
constexpr int64_t kMinRows = 16;
}

template <typename T>
T cross_entropy_forward(ParallelTasks& parallel, const Matrix<T>& logits,
                        std::span<const int32_t> targets, std::vector<T>& logsumexp,
                        std::vector<T>* row_loss) {
  const Eigen::Index rows = logits.rows();
  logsumexp.resize(static_cast<size_t>(rows));
  if (row_loss != nullptr) row_loss->resize(static_cast<size_t>(rows));
  std::vector<double> partial(64, 0.0);
  const int n_chunks =
      parallel.for_chunks(rows, kMinRows, [&](int chunk, int64_t begin, int64_t end) {
        double sum = 0;
        for (int64_t t = begin; t < end; ++t) {
          const auto row = logits.row(t);
          const T max_logit = row.maxCoeff();
          const T lse = max_logit + std::log((row.array() - max_logit).exp().sum());
          logsumexp[static_cast<size_t>(t)] = lse;
          const T loss = lse - row(targets[static_cast<size_t>(t)]);
          if (row_loss != nullptr) (*row_loss)[static_cast<size_t>(t)] = loss;
          sum += static_cast<double>(loss);
        }
        partial[static_cast<size_t>(chunk)] = sum;
      });
  double total = 0;
  for (int chunk = 0; chunk < n_chunks; ++chunk) total += partial[static_cast<size_t>(chunk)];
  return rows > 0 ? static_cast<T>(total / static_cast<double>(rows)) : T(0);
}

template <typename T>
void cross_entropy_backward(ParallelTasks& parallel, const Matrix<T>& logits,
                            std::span<const int32_t> targets, const std::vector<T>& logsumexp,
                            T dloss, Matrix<T>& dlogits) {
  const Eigen::Index rows = logits.rows();
  if (&dlogits != &logits) dlogits.resize(rows, logits.cols());
  const T scale = rows > 0 ? dloss / static_cast<T>(rows) : T(0);
  parallel.for_chunks(rows, kMinRows, [&](int, int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const T lse = logsumexp[static_cast<size_t>(t)];
      dlogits.row(t) = ((logits.row(t).array() - lse).exp() * scale).matrix();
      dlogits(t, targets[static_cast<size_t>(t)]) -= scale;
    }
  });
}

#define MOE_INSTANTIATE(T)                                                                        \
  template T cross_entropy_forward<T>(ParallelTasks&, const Matrix<T>&, std::span<const int32_t>, \
                                      std::vector<T>&, std::vector<T>*);                          \
  template void cross_entropy_backward<T>(ParallelTasks&, const Matrix<T>&,                       \
                                          std::span<const int32_t>, const std::vector<T>&, T,     \
                                          Matrix<T>&);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
