#pragma once
// What one token costs: the forward pass's FLOPs in this mixture of experts and in a dense model
// of the same total size, from the model's configuration and parameter counts. Part of the model
// summary (the model card, the Model view's figure, count_compute over a trace).
#include <cstdint>

#include "moe/model.hpp"

namespace moe {

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

}  // namespace moe
