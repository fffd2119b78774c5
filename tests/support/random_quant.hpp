#pragma once
// Random quantized tensors of every block type the compute core supports, for tests: random
// code bytes with every block's f16 scale (and min/offset) set so that the values have mean
// about 0 and a chosen standard deviation. Our writer quantizes only to Q8_0, so tests of the
// other types make their bytes here.
#include <cstdint>
#include <random>
#include <vector>

#include "moe/ggml_types.hpp"

namespace moe::testing {

// Where a block type keeps its f16 scale `d` and its f16 min (K-quants: subtracted) or offset
// (Q4_1, Q5_1: added); -1 when it has none. IQ1_M packs d into its scales: kIq1MPackedScale;
// MXFP4's d is a power of two, its exponent byte: kMxfp4Exponent (d is rounded to a power of 2).
// Q8_K's d is an f32: kQ8KF32Scale.
inline constexpr int kIq1MPackedScale = -2;
inline constexpr int kMxfp4Exponent = -3;
inline constexpr int kQ8KF32Scale = -4;
struct BlockScaleFields {
  int d_offset = -1;
  int min_offset = -1;
};
BlockScaleFields block_scale_fields(GgmlType type);

// n_elements values (a multiple of the block size) of `type`.
std::vector<uint8_t> random_quantized(GgmlType type, uint64_t n_elements, double stddev,
                                      std::mt19937_64& rng);

// Sets every block's d (and min, if the type has one) to the given values.
void set_block_scales(GgmlType type, std::vector<uint8_t>& data, float d, float min);

}  // namespace moe::testing
