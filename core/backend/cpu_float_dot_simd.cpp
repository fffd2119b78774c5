// Vectorized versions of cpu_float_dot.cpp, compiled once per SIMD level (AVX2 + FMA + F16C and
// up): F16 / BF16 weight rows widened to
// f32 in registers (no scratch buffer, unlike the convert path of cpu_matmul.cpp) and multiplied
// with f32 activations, which are never rounded to 16 bits (llama.cpp rounds them to f16 / bf16;
// this is more exact).
//
// Summation order, the same for every batch size: each token has two 8-lane accumulators, fed
// alternately by 8 consecutive elements (accumulator 0 takes elements 16k .. 16k + 7, 1 takes
// 16k + 8 .. 16k + 15), then added and summed across lanes. The one-token kernel is the
// many-token kernel with a tile of one, so a token's result never depends on how many tokens
// came with it.

#include "cpu_quant_dot.hpp"

#include "cpu_simd_helpers.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

namespace {

static_assert(kFloatDotBlock == 16, "the kernels below consume two 8-lane vectors per block");

__m128i load_128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

__m256 widen_f16(const uint8_t* p) { return _mm256_cvtph_ps(load_128(p)); }

// bf16 is the top half of an f32: shift each 16-bit value into the high half of a 32-bit lane.
__m256 widen_bf16(const uint8_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load_128(p)), 16));
}

using Widen = __m256 (*)(const uint8_t*);

// out[(first + t) * out_stride] for the tokens [first, first + kTile) of the batch.
template <Widen kWiden, int kTile>
__attribute__((always_inline)) inline void dot_tile(const uint8_t* w, const uint8_t* activations,
                                                    size_t stride, int64_t cols, float* out,
                                                    size_t out_stride) {
  __m256 low[kTile], high[kTile];
  const float* a[kTile];
  for (int t = 0; t < kTile; ++t) {
    low[t] = _mm256_setzero_ps();
    high[t] = _mm256_setzero_ps();
    a[t] = reinterpret_cast<const float*>(activations + static_cast<size_t>(t) * stride);
  }
  for (int64_t i = 0; i < cols; i += 16) {
    prefetch_ahead<32>(w + 2 * i);  // 16 weights of 2 bytes
    const __m256 w_low = kWiden(w + 2 * i);
    const __m256 w_high = kWiden(w + 2 * i + 16);
    for (int t = 0; t < kTile; ++t) {
      low[t] = _mm256_fmadd_ps(w_low, _mm256_loadu_ps(a[t] + i), low[t]);
      high[t] = _mm256_fmadd_ps(w_high, _mm256_loadu_ps(a[t] + i + 8), high[t]);
    }
  }
  for (int t = 0; t < kTile; ++t)
    out[static_cast<size_t>(t) * out_stride] = horizontal_sum(_mm256_add_ps(low[t], high[t]));
}

// Tiles of 4 tokens: 8 accumulators and the two widened weight vectors stay in registers, and
// the 4 activation rows being read fit in L1 for the widths models use.
template <Widen kWiden>
void dot_many(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
              float* out, size_t out_stride) {
  constexpr int kTile = 4;
  int first = 0;
  for (; first + kTile <= n; first += kTile) {
    dot_tile<kWiden, kTile>(w, activations + static_cast<size_t>(first) * stride, stride, cols,
                            out + static_cast<size_t>(first) * out_stride, out_stride);
  }
  for (; first < n; ++first) {
    dot_tile<kWiden, 1>(w, activations + static_cast<size_t>(first) * stride, stride, cols,
                        out + static_cast<size_t>(first) * out_stride, out_stride);
  }
}

template <Widen kWiden>
float dot_one(const uint8_t* w, const void* activation, int64_t cols) {
  float result = 0.0f;
  dot_tile<kWiden, 1>(w, static_cast<const uint8_t*>(activation), 0, cols, &result, 0);
  return result;
}

}  // namespace

RowDot float_row_dot(GgmlType type) {
  switch (type) {
    case GgmlType::F16:
      return dot_one<widen_f16>;
    case GgmlType::BF16:
      return dot_one<widen_bf16>;
    default:
      return nullptr;
  }
}

RowDotMany float_row_dot_many(GgmlType type) {
  switch (type) {
    case GgmlType::F16:
      return dot_many<widen_f16>;
    case GgmlType::BF16:
      return dot_many<widen_bf16>;
    default:
      return nullptr;
  }
}

}  // namespace moe::cpu::detail::MOE_SIMD_NS
