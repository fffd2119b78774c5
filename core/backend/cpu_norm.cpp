#include <cmath>

#include "cpu_kernels.hpp"

namespace moe::cpu {

namespace {

// The mean of the squares as ggml's RMS norm forms it: each square rounded to f32, summed in
// double in order, the mean rounded to f32. Summing in another order moves the result by an
// ulp or two, which can flip the rounding of a later 8-bit activation code and so the routing.
float mean_square(const float* x, Eigen::Index n) {
  double sum = 0;
  for (Eigen::Index i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  return static_cast<float>(sum / static_cast<double>(n));
}

}  // namespace

void rms_norm(const RowMatrix& x, std::span<const float> weight, std::span<const float> bias,
              float eps, RowMatrix& out) {
  rms_norm(x, weight, eps, out);
  if (bias.empty()) return;
  out.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), out.cols());
}

void block_norm(NormKind kind, const RowMatrix& x, std::span<const float> weight,
                std::span<const float> bias, float eps, RowMatrix& out) {
  if (kind != NormKind::Layer) {
    rms_norm(x, weight, bias, eps, out);
    return;
  }
  // LayerNorm (dbrx: no bias): centre, divide by the standard deviation, scale.
  out.resize(x.rows(), x.cols());
  const Eigen::Map<const Eigen::RowVectorXf> w(weight.data(),
                                               static_cast<Eigen::Index>(weight.size()));
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float mean = x.row(t).mean();
    const Eigen::RowVectorXf centred = x.row(t).array() - mean;
    const float variance = centred.squaredNorm() / static_cast<float>(x.cols());
    out.row(t) = (centred * (1.0f / std::sqrt(variance + eps))).cwiseProduct(w);
  }
  if (!bias.empty()) out.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), out.cols());
}

void rms_norm_groups(RowMatrix& x, std::span<const float> weight, float eps) {
  const auto size = static_cast<Eigen::Index>(weight.size());
  const Eigen::Map<const Eigen::RowVectorXf> w(weight.data(), size);
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    for (Eigen::Index at = 0; at + size <= x.cols(); at += size) {
      auto group = x.row(t).segment(at, size);
      const float scale = 1.0f / std::sqrt(mean_square(group.data(), size) + eps);
      group = (group * scale).cwiseProduct(w);
    }
  }
}

void rms_norm(const RowMatrix& x, std::span<const float> weight, float eps, RowMatrix& out) {
  out.resize(x.rows(), x.cols());
  const Eigen::Map<const Eigen::RowVectorXf> w(weight.data(),
                                               static_cast<Eigen::Index>(weight.size()));
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float scale = 1.0f / std::sqrt(mean_square(x.row(t).data(), x.cols()) + eps);
    out.row(t) = (x.row(t) * scale).cwiseProduct(w);
  }
}

}  // namespace moe::cpu
