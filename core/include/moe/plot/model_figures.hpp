#pragma once
// The model at a glance: where its parameters are, and what one token costs compared with a
// dense model of the same total size (the point of a mixture of experts).
#include <cstdint>

#include "moe/model.hpp"
#include "moe/plot/figure.hpp"

namespace moe::plot {

// Forward-pass cost of one token, counting a multiply-add as 2 FLOPs. Matrix products use
// every weight they touch once; attention adds the score and value products over `context`
// earlier positions. Embedding lookups and norms are not counted (no matrix product).
struct ComputeEstimate {
  int context = 1;
  uint64_t moe_matmul_params = 0;    // weights one token multiplies with in this model
  uint64_t dense_matmul_params = 0;  // ... in a dense model with every expert's weights active
  double attention_flops = 0;        // per token, both models
  double moe_flops = 0;
  double dense_flops = 0;
};

ComputeEstimate estimate_compute(const ModelConfig& config, const ParameterCounts& counts,
                                 int context);

// Two stacked bars (all parameters, parameters active per token) split by component.
Figure parameters_figure(const ParameterCounts& counts);
// FLOPs per token: this MoE against the dense model of the same total size.
Figure flops_figure(const ComputeEstimate& estimate);

}  // namespace moe::plot
