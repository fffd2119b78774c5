// AVX2 versions of the quantized dot products in cpu_quant_dot.cpp (same arithmetic: integer
// products per scale group, float scales per block). The integer sums are exact, so these
// differ from the scalar kernels only in the order the float block terms are added.
//
// The core instruction is maddubs (unsigned 8-bit × signed 8-bit, adjacent pairs summed to
// 16 bits); the unsigned side is the weight code, which is never above 63, so no pair sum can
// saturate. Signed weights (Q8_0, Q4_0, Q5_0) move their sign onto the activation first.
#include "cpu_quant_dot.hpp"

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace moe::cpu::detail {

#ifdef __AVX2__
namespace {

float load_f16(const uint8_t* p) {
  uint16_t bits;
  __builtin_memcpy(&bits, p, 2);
#ifdef __F16C__
  return _cvtsh_ss(bits);
#else
  return f16_to_f32(bits);
#endif
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t value;
  __builtin_memcpy(&value, p, 4);
  return value;
}

float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// Unsigned bytes × signed bytes, summed in groups of four to 8 × int32.
__m256i dot_unsigned_signed(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Signed bytes × signed bytes, summed in groups of four to 8 × int32.
__m256i dot_signed_signed(__m256i x, __m256i y) {
  return dot_unsigned_signed(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// The 32 four-bit codes of a Q4_*/Q5_* block in element order (low nibbles, then high ones).
__m256i nibbles_32(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Byte i is 0xff where bit i of `bits` is set, else 0.
__m256i bits_to_bytes(uint32_t bits) {
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303));
  const __m256i bit_of_byte = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit_of_byte), bit_of_byte);
}

__m256i load_256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// --- 32-element blocks: one float scale per block -----------------------------------------------

float dot_q8_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < cols / 32; ++b, w += 34) {
    const __m256i products = dot_signed_signed(load_256(w + 2), load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w) * a[b].d), _mm256_cvtepi32_ps(products), acc);
  }
  return horizontal_sum(acc);
}

float dot_q4_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < cols / 32; ++b, w += 18) {
    const __m256i q = _mm256_sub_epi8(nibbles_32(w + 2), _mm256_set1_epi8(8));
    const __m256i products = dot_signed_signed(q, load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w) * a[b].d), _mm256_cvtepi32_ps(products), acc);
  }
  return horizontal_sum(acc);
}

float dot_q4_1(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int64_t b = 0; b < cols / 32; ++b, w += 20) {
    const __m256i products = dot_unsigned_signed(nibbles_32(w + 4), load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w) * a[b].d), _mm256_cvtepi32_ps(products), acc);
    offsets += load_f16(w + 2) * a[b].sum;
  }
  return horizontal_sum(acc) + offsets;
}

float dot_q5_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < cols / 32; ++b, w += 22) {
    // (code | bit << 4) - 16 == code - 16 where the bit is clear: set the byte's high nibble.
    const __m256i clear =
        _mm256_andnot_si256(bits_to_bytes(load_u32(w + 2)), _mm256_set1_epi8(-16));
    const __m256i q = _mm256_or_si256(nibbles_32(w + 6), clear);
    const __m256i products = dot_signed_signed(q, load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w) * a[b].d), _mm256_cvtepi32_ps(products), acc);
  }
  return horizontal_sum(acc);
}

float dot_q5_1(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int64_t b = 0; b < cols / 32; ++b, w += 24) {
    const __m256i high = _mm256_and_si256(bits_to_bytes(load_u32(w + 4)), _mm256_set1_epi8(16));
    const __m256i q = _mm256_or_si256(nibbles_32(w + 8), high);
    const __m256i products = dot_unsigned_signed(q, load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w) * a[b].d), _mm256_cvtepi32_ps(products), acc);
    offsets += load_f16(w + 2) * a[b].sum;
  }
  return horizontal_sum(acc) + offsets;
}

// --- 256-element super-blocks: integer group scales, one float scale per super-block ----------

// 32 consecutive codes whose first 16 belong to group g and last 16 to group g + 1 (Q2_K, Q3_K,
// Q6_K) times the activations, each half weighted by its group's scale: 8 × int32.
__m256i scaled_pair_of_groups(__m256i codes, const int8_t* activations, int scale_first,
                              int scale_second) {
  const __m256i products = _mm256_maddubs_epi16(codes, load_256(activations));
  const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(scale_second)),
                                          _mm_set1_epi16(static_cast<int16_t>(scale_first)));
  return _mm256_madd_epi16(products, scales);
}

float dot_q2_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < cols / 256; ++b, w += 84) {
    const uint8_t* scales = w;
    int32_t mins = 0;
    for (int g = 0; g < 16; ++g) mins += (scales[g] >> 4) * a[b].group_sums[g];
    __m256i sum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i packed = load_256(w + 16 + 32 * half);
      for (int shift = 0; shift < 4; ++shift) {
        const __m256i codes = _mm256_and_si256(_mm256_srli_epi16(packed, 2 * shift), two_bits);
        const int g = 8 * half + 2 * shift;
        sum = _mm256_add_epi32(sum, scaled_pair_of_groups(codes, a[b].q + 128 * half + 32 * shift,
                                                          scales[g] & 0xf, scales[g + 1] & 0xf));
      }
    }
    const float d = a[b].d * load_f16(w + 80);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    offsets += a[b].d * load_f16(w + 82) * static_cast<float>(mins);
  }
  return horizontal_sum(acc) - offsets;
}

float dot_q3_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  __m256 acc = _mm256_setzero_ps();
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i one_bit = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < cols / 256; ++b, w += 110) {
    const uint8_t* packed = w + 96;
    int scale[16];
    int32_t offset = 0;  // codes are stored + 4 here (0..7), so subtract 4 Σ scale * Σa
    for (int g = 0; g < 16; ++g) {
      const int low = g < 8 ? (packed[g] & 0xf) : (packed[g - 8] >> 4);
      const int high = (packed[8 + g % 4] >> (2 * (g / 4))) & 3;
      scale[g] = (low | high << 4) - 32;
      offset += scale[g] * a[b].group_sums[g];
    }
    const __m256i hmask = load_256(w);
    __m256i sum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i low_bits = load_256(w + 32 + 32 * half);
      for (int shift = 0; shift < 4; ++shift) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(low_bits, 2 * shift), two_bits);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * half + shift), one_bit);
        const __m256i codes = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
        const int g = 8 * half + 2 * shift;
        sum = _mm256_add_epi32(sum, scaled_pair_of_groups(codes, a[b].q + 128 * half + 32 * shift,
                                                          scale[g], scale[g + 1]));
      }
    }
    sum = _mm256_sub_epi32(sum, _mm256_setr_epi32(4 * offset, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * load_f16(w + 108)), _mm256_cvtepi32_ps(sum), acc);
  }
  return horizontal_sum(acc);
}

// Q4_K / Q5_K scale and min of each of the 8 groups (layout in quants.cpp).
void scales_and_mins(const uint8_t* s, int* scale, int* min) {
  for (int g = 0; g < 4; ++g) {
    scale[g] = s[g] & 63;
    min[g] = s[g + 4] & 63;
  }
  for (int g = 4; g < 8; ++g) {
    scale[g] = (s[g + 4] & 0xf) | ((s[g - 4] >> 6) << 4);
    min[g] = (s[g + 4] >> 4) | ((s[g] >> 6) << 4);
  }
}

template <bool kFiveBits>
float dot_q4_k_q5_k(const uint8_t* w, const void* activation, int64_t cols) {
  constexpr size_t kBlockBytes = kFiveBits ? 176 : 144;
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  const __m256i one_bit = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < cols / 256; ++b, w += kBlockBytes) {
    int scale[8], min[8];
    scales_and_mins(w + 4, scale, min);
    int32_t mins = 0;
    for (int g = 0; g < 8; ++g)
      mins += min[g] * (a[b].group_sums[2 * g] + a[b].group_sums[2 * g + 1]);
    const uint8_t* qs = kFiveBits ? w + 48 : w + 16;
    __m256i fifth_bits = _mm256_setzero_si256();
    if constexpr (kFiveBits) fifth_bits = load_256(w + 16);
    __m256i sum = _mm256_setzero_si256();
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m256i packed = load_256(qs + 32 * chunk);
      __m256i codes[2] = {_mm256_and_si256(packed, low_nibble),
                          _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble)};
      for (int part = 0; part < 2; ++part) {
        const int g = 2 * chunk + part;
        if constexpr (kFiveBits) {
          const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(fifth_bits, g), one_bit);
          codes[part] = _mm256_or_si256(codes[part], _mm256_slli_epi16(bit, 4));
        }
        const __m256i products = _mm256_maddubs_epi16(codes[part], load_256(a[b].q + 32 * g));
        sum = _mm256_add_epi32(
            sum, _mm256_madd_epi16(products, _mm256_set1_epi16(static_cast<int16_t>(scale[g]))));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * load_f16(w)), _mm256_cvtepi32_ps(sum), acc);
    offsets += a[b].d * load_f16(w + 2) * static_cast<float>(mins);
  }
  return horizontal_sum(acc) - offsets;
}

float dot_q6_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  __m256 acc = _mm256_setzero_ps();
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < cols / 256; ++b, w += 210) {
    const auto* scales = reinterpret_cast<const int8_t*>(w + 192);
    int32_t offset = 0;  // codes are stored + 32 (0..63): subtract 32 Σ scale * Σa
    for (int g = 0; g < 16; ++g) offset += scales[g] * a[b].group_sums[g];
    __m256i sum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i low_bytes[2] = {load_256(w + 64 * half), load_256(w + 64 * half + 32)};
      const __m256i high_bytes = load_256(w + 128 + 32 * half);
      for (int j = 0; j < 4; ++j) {
        const __m256i source = low_bytes[j & 1];
        const __m256i low = j < 2 ? _mm256_and_si256(source, low_nibble)
                                  : _mm256_and_si256(_mm256_srli_epi16(source, 4), low_nibble);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(high_bytes, 2 * j), two_bits);
        const __m256i codes = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
        const int g = 8 * half + 2 * j;
        sum = _mm256_add_epi32(sum, scaled_pair_of_groups(codes, a[b].q + 128 * half + 32 * j,
                                                          scales[g], scales[g + 1]));
      }
    }
    sum = _mm256_sub_epi32(sum, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * load_f16(w + 208)), _mm256_cvtepi32_ps(sum), acc);
  }
  return horizontal_sum(acc);
}

}  // namespace

RowDot avx2_row_dot(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return dot_q4_0;
    case GgmlType::Q4_1:
      return dot_q4_1;
    case GgmlType::Q5_0:
      return dot_q5_0;
    case GgmlType::Q5_1:
      return dot_q5_1;
    case GgmlType::Q8_0:
      return dot_q8_0;
    case GgmlType::Q2_K:
      return dot_q2_k;
    case GgmlType::Q3_K:
      return dot_q3_k;
    case GgmlType::Q4_K:
      return dot_q4_k_q5_k<false>;
    case GgmlType::Q5_K:
      return dot_q4_k_q5_k<true>;
    case GgmlType::Q6_K:
      return dot_q6_k;
    default:
      return nullptr;
  }
}

#else

RowDot avx2_row_dot(GgmlType) { return nullptr; }

#endif

}  // namespace moe::cpu::detail
