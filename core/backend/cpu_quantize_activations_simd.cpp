// Vectorized activation quantization (compiled once per SIMD level, like the dot products): the
// same values as quantize_activations_32 / _256 in cpu_quant_dot.cpp (ggml's q8_0 / q8_1 / q8_K
// rules), bit for bit, so a level's choice never changes a result. Each step is the scalar one
// done 8 lanes at a time: max |x| (exact in any order; NaN ignored as std::max ignores it), the
// scales computed per block by the same scalar expressions, q = round-to-nearest-even(x * scale)
// clamped to ±127 with NaN giving 0, and integer sums.
#include <cmath>

#include "cpu_quant_dot.hpp"
#include "cpu_simd_helpers.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

namespace {

// max(|x|) over n (a multiple of 8) values; a NaN lane leaves the maximum as it was.
float max_abs(const float* x, int n) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 result = _mm256_setzero_ps();
  // maxps returns its second operand when either is NaN: |x| first keeps the running maximum.
  for (int i = 0; i < n; i += 8) result = _mm256_max_ps(_mm256_andnot_ps(sign_bit, _mm256_loadu_ps(x + i)), result);
  __m128 half = _mm_max_ps(_mm256_castps256_ps128(result), _mm256_extractf128_ps(result, 1));
  half = _mm_max_ps(half, _mm_movehl_ps(half, half));
  half = _mm_max_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}

// 8 values times `inverse`, rounded to the nearest integer (ties to even), clamped to ±127,
// NaN to 0, as 8 × int32.
__m256i quantize_8(const float* x, __m256 inverse) {
  __m256 q = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), inverse),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  q = _mm256_and_ps(q, _mm256_cmp_ps(q, q, _CMP_ORD_Q));  // NaN -> +0
  q = _mm256_min_ps(_mm256_max_ps(q, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  return _mm256_cvtps_epi32(q);
}

// 32 values to 32 int8 codes in element order; returns Σ codes per 16 (low, high).
void quantize_32(const float* x, __m256 inverse, int8_t* out, int32_t& sum_low, int32_t& sum_high) {
  const __m256i q0 = quantize_8(x, inverse), q1 = quantize_8(x + 8, inverse);
  const __m256i q2 = quantize_8(x + 16, inverse), q3 = quantize_8(x + 24, inverse);
  // packs works within 128-bit lanes: the permute puts the 32-bit groups back in order.
  const __m256i words_01 = _mm256_packs_epi32(q0, q1), words_23 = _mm256_packs_epi32(q2, q3);
  const __m256i bytes = _mm256_packs_epi16(words_01, words_23);
  const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), ordered);
  const __m256i sums_low = _mm256_add_epi32(q0, q1), sums_high = _mm256_add_epi32(q2, q3);
  const auto lane_sum = [](__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
  };
  sum_low = lane_sum(sums_low);
  sum_high = lane_sum(sums_high);
}

void quantize_rows_32(const float* x, void* out, int64_t n) {
  auto* blocks = static_cast<ActivationBlock32*>(out);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    const float largest = max_abs(x, 32);
    const float d = largest / 127.0f;
    const float inverse = largest != 0.0f ? 127.0f / largest : 0.0f;
    int32_t low = 0, high = 0;
    quantize_32(x, _mm256_set1_ps(inverse), blocks[b].q, low, high);
    blocks[b].d = f16_to_f32(f32_to_f16(d));
    blocks[b].sum = f16_to_f32(f32_to_f16(d * static_cast<float>(low + high)));
  }
}

void quantize_rows_256(const float* x, void* out, int64_t n) {
  auto* blocks = static_cast<ActivationBlock256*>(out);
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    // The value of largest magnitude, the first on a tie: its magnitude found 8 lanes at a
    // time, then its first position.
    const float largest = max_abs(x, 256);
    float extreme = 0.0f;
    for (int i = 0; i < 256 && largest != 0.0f; ++i) {
      if (std::fabs(x[i]) == largest) {
        extreme = x[i];
        break;
      }
    }
    const float scale = extreme != 0.0f ? -127.0f / extreme : 0.0f;
    const __m256 inverse = _mm256_set1_ps(scale);
    for (int i = 0; i < 8; ++i) {
      int32_t low = 0, high = 0;
      quantize_32(x + 32 * i, inverse, blocks[b].q + 32 * i, low, high);
      blocks[b].group_sums[2 * i] = static_cast<int16_t>(low);
      blocks[b].group_sums[2 * i + 1] = static_cast<int16_t>(high);
    }
    blocks[b].d = extreme != 0.0f ? 1.0f / scale : 0.0f;
  }
}

}  // namespace

QuantizeRow activation_quantizer(ActivationFormat format) {
  switch (format) {
    case ActivationFormat::Int8Blocks32:
      return quantize_rows_32;
    case ActivationFormat::Int8Blocks256:
      return quantize_rows_256;
    default:
      return nullptr;
  }
}

}  // namespace moe::cpu::detail::MOE_SIMD_NS
