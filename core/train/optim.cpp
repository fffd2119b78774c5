// AdamW, the learning-rate schedule and gradient clipping.
#include <cmath>
#include <numbers>

#include "moe/error.hpp"
#include "moe/train_optim.hpp"

namespace moe::train {

void OptimizerConfig::validate() const {
  const auto require = [](bool ok, const std::string& message) {
    if (!ok) throw Error("optimizer: " + message);
  };
  require(lr > 0 && std::isfinite(lr), "lr must be positive");
  require(min_lr_ratio >= 0 && min_lr_ratio <= 1, "min_lr_ratio must be within [0, 1]");
  require(warmup_steps >= 0, "warmup_steps must not be negative");
  require(total_steps >= 1, "total steps must be at least 1");
  require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas must be within [0, 1)");
  require(eps > 0, "eps must be positive");
  require(weight_decay >= 0, "weight_decay must not be negative");
  require(grad_clip >= 0, "grad_clip must not be negative (0 disables clipping)");
}

double learning_rate(const OptimizerConfig& c, int64_t step) {
  if (step < c.warmup_steps) {
    return c.lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  }
  const double min_lr = c.lr * c.min_lr_ratio;
  const int64_t decay_steps = c.total_steps - c.warmup_steps;
  if (decay_steps <= 0 || step >= c.total_steps) return min_lr;
  const double progress =
      static_cast<double>(step - c.warmup_steps) / static_cast<double>(decay_steps);
  return min_lr + 0.5 * (c.lr - min_lr) * (1.0 + std::cos(std::numbers::pi * progress));
}

double global_norm(ParallelTasks& parallel, std::span<const float> values) {
  std::vector<double> partial(64, 0.0);
  const int n_chunks = parallel.for_chunks(
      static_cast<int64_t>(values.size()), 1 << 16, [&](int chunk, int64_t begin, int64_t end) {
        double sum = 0;
        for (int64_t i = begin; i < end; ++i)
          sum +=
              static_cast<double>(values[static_cast<size_t>(i)]) * values[static_cast<size_t>(i)];
        partial[static_cast<size_t>(chunk)] = sum;
      });
  double total = 0;
  for (int chunk = 0; chunk < n_chunks; ++chunk) total += partial[static_cast<size_t>(chunk)];
  return std::sqrt(total);
}

AdamW::AdamW(const ParameterLayout& layout, OptimizerConfig config)
    : layout_(layout), config_(config), m_(layout.size(), 0.0f), v_(layout.size(), 0.0f) {
  config_.validate();
}

void AdamW::set_config(const OptimizerConfig& config) {
  config.validate();
  config_ = config;
}

double AdamW::update(ParallelTasks& parallel, std::span<float> params, std::span<float> grads,
                     int64_t step) {
  if (params.size() != m_.size() || grads.size() != m_.size()) {
    throw Error("AdamW: parameter count does not match the optimizer state");
  }
  const double norm = global_norm(parallel, grads);
  const float clip = (config_.grad_clip > 0 && norm > config_.grad_clip)
                         ? static_cast<float>(config_.grad_clip / norm)
                         : 1.0f;
  const double lr = learning_rate(config_, step);
  const double t = static_cast<double>(step + 1);
  const float b1 = static_cast<float>(config_.beta1), b2 = static_cast<float>(config_.beta2);
  const float correction1 = static_cast<float>(1.0 / (1.0 - std::pow(config_.beta1, t)));
  const float correction2 = static_cast<float>(1.0 / (1.0 - std::pow(config_.beta2, t)));
  const float eps = static_cast<float>(config_.eps), step_size = static_cast<float>(lr);
  for (const ParameterTensor& tensor : layout_.tensors()) {
    const float decay = tensor.is_norm ? 0.0f : static_cast<float>(lr * config_.weight_decay);
    float* p = params.data() + tensor.offset;
    float* g = grads.data() + tensor.offset;
    float* m = m_.data() + tensor.offset;
    float* v = v_.data() + tensor.offset;
    parallel.for_chunks(static_cast<int64_t>(tensor.size), 1 << 15,
                        [&](int, int64_t begin, int64_t end) {
                          for (int64_t i = begin; i < end; ++i) {
                            const float grad = g[i] * clip;
                            m[i] = b1 * m[i] + (1.0f - b1) * grad;
                            v[i] = b2 * v[i] + (1.0f - b2) * grad * grad;
                            const float m_hat = m[i] * correction1, v_hat = v[i] * correction2;
                            p[i] -= step_size * (m_hat / (std::sqrt(v_hat) + eps)) + decay * p[i];
                          }
                        });
  }
  return norm;
}

}  // namespace moe::train
