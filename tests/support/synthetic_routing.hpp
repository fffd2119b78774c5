#pragma once
// A routing trace for figure and export tests: 4 layers (MoE layers 0, 2 and 3), 8 experts,
// top-2, following the routing rules, with some experts busier than others.
#include <cstdint>

#include "moe/routing.hpp"

namespace moe::testing {

constexpr int kSyntheticExperts = 8;

// The same seed gives the same trace.
RoutingTrace synthetic_trace(int n_tokens, uint32_t seed);

}  // namespace moe::testing
