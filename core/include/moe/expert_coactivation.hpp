#pragma once
// Expert co-activation (Lo et al. 2024, "A Closer Look into Mixture-of-Experts in Large Language
// Models"): CoAct(i, j) = N(i and j both chosen) / N(i chosen), counted over all pairs of each
// token's top-k set at one MoE layer. Read row i as "when i is chosen, how often j is too".
#include <cstdint>
#include <vector>

namespace moe {

// counts[a * E + b] += 1 for every ordered pair a != b of `experts`, counts[a * E + a] += 1 for
// each chosen a (the diagonal is N(a chosen)). Experts outside [0, E) are ignored.
void count_coactivation(std::vector<int64_t>& counts, int n_expert,
                        const std::vector<int32_t>& experts);

// CoAct as an E x E row-major table; rows of never-chosen experts and the diagonal are 0.
std::vector<double> coactivation_ratio(const std::vector<int64_t>& counts, int n_expert);

}  // namespace moe
