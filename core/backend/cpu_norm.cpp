#include <cmath>

#include "cpu_kernels.hpp"

namespace moe::cpu {

void rms_norm(const RowMatrix& x, std::span<const float> weight, float eps, RowMatrix& out) {
  out.resize(x.rows(), x.cols());
  const Eigen::Map<const Eigen::RowVectorXf> w(weight.data(),
                                               static_cast<Eigen::Index>(weight.size()));
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float mean_square = x.row(t).squaredNorm() / static_cast<float>(x.cols());
    const float scale = 1.0f / std::sqrt(mean_square + eps);
    out.row(t) = (x.row(t) * scale).cwiseProduct(w);
  }
}

}  // namespace moe::cpu
