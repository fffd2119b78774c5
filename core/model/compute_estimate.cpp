#include "moe/compute_estimate.hpp"

#include <algorithm>

namespace moe {

ComputeEstimate estimate_compute(const ModelConfig& config, const ParameterCounts& counts,
                                 int context) {
  ComputeEstimate estimate;
  estimate.context = std::max(context, 1);
  // With tied embeddings the output projection multiplies with token_embd.
  const uint64_t output = counts.output > 0 ? counts.output
                                            : static_cast<uint64_t>(config.n_vocab) *
                                                  static_cast<uint64_t>(config.n_embd);
  estimate.moe_matmul_params =
      counts.attention + counts.router + counts.active_experts + counts.dense_ffn + output;
  estimate.dense_matmul_params = counts.attention + counts.experts + counts.dense_ffn + output;
  const double per_layer =
      2.0 * config.n_head * (config.head_dim + config.head_dim_v) * estimate.context;
  estimate.attention_flops = per_layer * config.n_layer;
  estimate.moe_flops =
      2.0 * static_cast<double>(estimate.moe_matmul_params) + estimate.attention_flops;
  estimate.dense_flops =
      2.0 * static_cast<double>(estimate.dense_matmul_params) + estimate.attention_flops;
  return estimate;
}

}  // namespace moe
