#pragma once
// Small building blocks shared by the vectorized kernels (cpu_quant_dot_simd.cpp,
// cpu_quant_dot_many_simd.cpp, cpu_float_dot_simd.cpp): one definition, so that the many-token
// kernels reproduce the one-token kernels' results bit for bit. Those files are compiled once per
// SIMD level (core/CMakeLists.txt) with MOE_SIMD_NS naming the level's namespace, so each level's
// copy of these inline functions is a different function: the linker can never hand one level's
// code to another (or to the baseline code).
//
// The integer dot products use VNNI where the level has it: vpdpbusd for 4 unsigned × signed
// byte products, vpdpwssd for 2 int16 products, each added to an int32 accumulator. They give
// the same integers as AVX2's maddubs + madd, whose 16-bit pair sums never saturate here (the
// unsigned side is a weight code of at most 128), so every level's results are bit-identical.
#if !defined(__AVX2__) || !defined(__FMA__) || !defined(MOE_SIMD_NS)
#error "compile with -mavx2 -mfma -mf16c and -DMOE_SIMD_NS=<level> (core/CMakeLists.txt)"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "moe/ggml_types.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

// moe::load_f16 with the F16C instruction (every level has it); load_u16 / load_u32 are
// moe/little_endian.hpp's. The kernels address block fields as `w + offsetof(BlockX, field)`
// (moe/gguf_blocks.hpp): plain byte offsets, which give the same code as literal ones, where
// member access through a struct reference changed GCC's instruction scheduling.
inline float load_f16(const uint8_t* p) {
#ifdef __F16C__
  return _cvtsh_ss(load_u16(p));
#else
  return f16_to_f32(load_u16(p));
#endif
}

// How far ahead of the block being multiplied the kernels ask for weights. One decoding thread
// streams weights faster than the hardware prefetcher brings them on the machines measured:
// asking 2 KB ahead took decode of an OLMoE-width Q4_K_M file from 52 to 75 tok/s (2 threads,
// AVX-512 Xeon). Prefetching past the end of a tensor is harmless (a hint never faults).
inline constexpr size_t kPrefetchDistance = MOESCOPE_PREFETCH_DISTANCE;

// Prefetches the cache lines of the block kBlockBytes long that starts kPrefetchDistance after
// `block`: called once per block, it covers the weight stream without gaps.
template <size_t kBlockBytes>
inline void prefetch_ahead(const uint8_t* block) {
  for (size_t line = 0; line < (kBlockBytes + 63) / 64; ++line) {
    _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchDistance + 64 * line), _MM_HINT_T0);
  }
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
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#elif defined(__AVXVNNI__)
  return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// acc + int16 × int16, summed in pairs: 8 × int32.
inline __m256i add_dot_pairs_16(__m256i acc, __m256i x, __m256i y) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(acc, x, y);
#elif defined(__AVXVNNI__)
  return _mm256_dpwssd_avx_epi32(acc, x, y);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
#endif
}

}  // namespace moe::cpu::detail::MOE_SIMD_NS
