#pragma once
// Small AVX2 building blocks shared by the vectorized kernels (cpu_quant_dot_avx2.cpp,
// cpu_quant_dot_many_avx2.cpp, cpu_float_dot_avx2.cpp): one definition, so that the many-token
// kernels reproduce the one-token kernels' results bit for bit. Include only from files compiled
// with AVX2 (guard with __AVX2__).
#include <immintrin.h>

#include <cstdint>

#include "moe/ggml_types.hpp"

namespace moe::cpu::avx2 {

inline float load_f16(const uint8_t* p) {
  uint16_t bits;
  __builtin_memcpy(&bits, p, 2);
#ifdef __F16C__
  return _cvtsh_ss(bits);
#else
  return f16_to_f32(bits);
#endif
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t value;
  __builtin_memcpy(&value, p, 4);
  return value;
}

inline __m256i load_256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Lanes 0 + 4, 1 + 5, ... then pairs, then the last two: the order every kernel here uses.
inline float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// The 32 four-bit codes of a Q4_*/Q5_* block in element order (low nibbles, then high ones).
inline __m256i nibbles_32(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Byte i is 0xff where bit i of `bits` is set, else 0.
inline __m256i bits_to_bytes(uint32_t bits) {
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303));
  const __m256i bit_of_byte = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit_of_byte), bit_of_byte);
}

// Unsigned bytes × signed bytes, summed in groups of four to 8 × int32.
inline __m256i dot_unsigned_signed(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

}  // namespace moe::cpu::avx2
