#pragma once
// AdamW with decoupled weight decay (none on norm weights), a linear-warmup + cosine learning
// rate schedule, and global gradient-norm clipping.
#include <cstdint>
#include <span>
#include <vector>

#include "moe/train_model.hpp"

namespace moe::train {

struct OptimizerConfig {
  double lr = 3e-3;            // peak learning rate
  double min_lr_ratio = 0.1;   // the cosine ends at lr · min_lr_ratio
  int64_t warmup_steps = 200;  // linear from lr / warmup_steps up to lr
  int64_t total_steps = 10000;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  // decoupled: p -= lr · weight_decay · p (matrices only)
  double grad_clip = 1.0;     // global L2 norm; 0 disables clipping

  void validate() const;  // throws moe::Error
};

// Learning rate for 0-based `step`: (step + 1) / warmup · lr during warmup, then a cosine from
// lr down to lr · min_lr_ratio at total_steps (and flat after).
double learning_rate(const OptimizerConfig& config, int64_t step);

class AdamW {
public:
  AdamW(const ParameterLayout& layout, OptimizerConfig config);

  // Clips `grads` to the global norm limit and applies one AdamW update with the learning rate
  // of `step` (0-based; bias corrections use step + 1). Returns the gradient norm before clipping.
  double update(ParallelTasks& parallel, std::span<float> params, std::span<float> grads,
                int64_t step);

  const OptimizerConfig& config() const { return config_; }
  void set_config(const OptimizerConfig& config);
  std::span<float> first_moment() { return m_; }
  std::span<float> second_moment() { return v_; }
  std::span<const float> first_moment() const { return m_; }
  std::span<const float> second_moment() const { return v_; }

private:
  const ParameterLayout& layout_;
  OptimizerConfig config_;
  AlignedVector<float> m_, v_;
};

// sqrt(Σ g²), summed in double in size-determined chunks (the same for any thread count).
double global_norm(ParallelTasks& parallel, std::span<const float> values);

}  // namespace moe::train
