#pragma once
// The model at a glance: where its parameters are, and what one token costs compared with a
// dense model of the same total size (the point of a mixture of experts).
#include "moe/compute_estimate.hpp"
#include "moe/model.hpp"
#include "moe/plot/figure.hpp"

namespace moe::plot {

// Two stacked bars (all parameters, parameters active per token) split by component.
Figure parameters_figure(const ParameterCounts& counts);
// FLOPs per token: this MoE against the dense model of the same total size.
Figure flops_figure(const ComputeEstimate& estimate);

}  // namespace moe::plot
