#pragma once
// Router saturation (Muennighoff et al. 2024, "OLMoE", §5.1): how much of the routing of one
// model (or checkpoint) A agrees with that of B on the same tokens, per MoE layer:
//   mean_overlap   = mean over tokens of |S_A ∩ S_B| / |S_B|  (S = the token's chosen set; OLMoE's
//                    saturation with B the final checkpoint)
//   top1_agreement = share of tokens whose first choices are equal.
#include <cstdint>
#include <vector>

#include "moe/routing.hpp"

namespace moe {

// Accumulated over tokens; add documents one at a time.
struct SaturationCounts {
  int64_t tokens = 0;        // tokens routed to at least one expert by both
  double overlap_sum = 0;    // sum of |S_A ∩ S_B| / |S_B|
  int64_t top1_agree = 0;
};
void count_saturation(SaturationCounts& counts, const std::vector<int32_t>& experts_a,
                      const std::vector<int32_t>& experts_b);

struct RouterSaturation {
  int layer = 0;
  int64_t tokens = 0;
  double mean_overlap = 0;
  double top1_agreement = 0;
};
RouterSaturation router_saturation(const SaturationCounts& counts, int layer);

// Adds every token both traces hold to per-layer counts (`counts[m]` for MoE layer `layers[m]`).
// Throws moe::Error when the traces' MoE layers are not `layers` or their token counts differ.
void count_saturation(std::vector<SaturationCounts>& counts, const std::vector<int>& layers,
                      const RoutingTrace& a, const RoutingTrace& b);

// Per MoE layer of A and B, over the tokens both traces hold. Throws moe::Error when the traces'
// MoE layers differ or they do not hold the same number of tokens.
std::vector<RouterSaturation> router_saturation(const RoutingTrace& a, const RoutingTrace& b);

}  // namespace moe
