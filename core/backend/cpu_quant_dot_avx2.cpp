// AVX2 versions of the quantized dot products in cpu_quant_dot.cpp (same arithmetic: integer
// products per scale group, float scales per block). The integer sums are exact, so these
// differ from the scalar kernels only in the order the float block terms are added.
//
// The core instruction is maddubs (unsigned 8-bit × signed 8-bit, adjacent pairs summed to
// 16 bits); the unsigned side is the weight code, which is never above 63, so no pair sum can
// saturate. Signed weights (Q8_0, Q4_0, Q5_0) move their sign onto the activation first.
#include <algorithm>

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

// Q4_K / Q5_K 6-bit scales and mins of the 8 groups, one byte each, in group order (layout in
// quants.cpp), decoded with word operations: bytes 0-3 hold the low 6 bits of scales 0-3 and
// the top 2 bits of scales 4-7, bytes 4-7 the same for the mins, bytes 8-11 the low 4 bits of
// scales 4-7 (low nibbles) and mins 4-7 (high nibbles).
struct GroupScales {
  uint32_t scales[2];
  uint32_t mins[2];
};

GroupScales group_scales(const uint8_t* packed) {
  uint32_t words[3];
  __builtin_memcpy(words, packed, 12);
  GroupScales result;
  result.scales[0] = words[0] & 0x3f3f3f3fu;
  result.scales[1] = (words[2] & 0x0f0f0f0fu) | ((words[0] & 0xc0c0c0c0u) >> 2);
  result.mins[0] = words[1] & 0x3f3f3f3fu;
  result.mins[1] = ((words[2] >> 4) & 0x0f0f0f0fu) | ((words[1] & 0xc0c0c0c0u) >> 2);
  return result;
}

// Σ_g mins[g] * (Σa over the 32 elements of group g), from the 16-element sums.
int32_t min_products(const GroupScales& scales, const int16_t* group_sums) {
  const __m128i sums16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group_sums));
  const __m128i sums16_high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group_sums + 8));
  const __m128i sums32 = _mm_hadd_epi16(sums16, sums16_high);  // 8 group sums, in order
  const __m128i mins = _mm_cvtepu8_epi16(
      _mm_set_epi32(0, 0, static_cast<int>(scales.mins[1]), static_cast<int>(scales.mins[0])));
  __m128i products = _mm_madd_epi16(mins, sums32);
  products = _mm_add_epi32(products, _mm_shuffle_epi32(products, 0x4e));
  products = _mm_add_epi32(products, _mm_shuffle_epi32(products, 0xb1));
  return _mm_cvtsi128_si32(products);
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
    const GroupScales scales = group_scales(w + 4);
    const int32_t mins = min_products(scales, a[b].group_sums);
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
        const int16_t scale = static_cast<int16_t>((scales.scales[g / 4] >> (8 * (g % 4))) & 0xff);
        const __m256i products = _mm256_maddubs_epi16(codes[part], load_256(a[b].q + 32 * g));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(products, _mm256_set1_epi16(scale)));
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
    // Codes are stored + 32 (0..63): start from -32 Σ_g scale_g * Σa_g.
    const __m256i scales16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales)));
    __m256i sum = _mm256_sub_epi32(
        _mm256_setzero_si256(),
        _mm256_slli_epi32(_mm256_madd_epi16(scales16, load_256(a[b].group_sums)), 5));
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
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * load_f16(w + 208)), _mm256_cvtepi32_ps(sum), acc);
  }
  return horizontal_sum(acc);
}

// --- Several tokens per weight row (prefill) ----------------------------------------------------

// One K-quant super-block unpacked once and reused for every token: 8 × 32 codes (unsigned) in
// element order, the int16 scale of each element pair, and the offset term's weights per
// 16-element group: token value = a.d * (d * Σ scale·code·a + offset_d * Σ_g offset_g · Σa_g).
struct UnpackedSuperBlock {
  __m256i codes[8];
  __m256i scales[8];
  __m256i offset_weights;  // 16 × int16
  float d;
  float offset_d;
};

__m256i duplicate_pairs(__m128i eight_i16) {  // [m0 m0 m1 m1 ... m7 m7]
  return _mm256_set_m128i(_mm_unpackhi_epi16(eight_i16, eight_i16),
                          _mm_unpacklo_epi16(eight_i16, eight_i16));
}

template <bool kFiveBits>
__attribute__((always_inline)) inline void unpack_q4_k_q5_k(const uint8_t* w,
                                                            UnpackedSuperBlock& block) {
  const GroupScales scales = group_scales(w + 4);
  const __m128i scale_bytes =
      _mm_set_epi32(0, 0, static_cast<int>(scales.scales[1]), static_cast<int>(scales.scales[0]));
  const __m128i min_bytes =
      _mm_set_epi32(0, 0, static_cast<int>(scales.mins[1]), static_cast<int>(scales.mins[0]));
  alignas(16) int16_t scale16[8];
  _mm_store_si128(reinterpret_cast<__m128i*>(scale16), _mm_cvtepu8_epi16(scale_bytes));
  block.offset_weights = duplicate_pairs(_mm_cvtepu8_epi16(min_bytes));
  const uint8_t* qs = kFiveBits ? w + 48 : w + 16;
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  __m256i fifth_bits = _mm256_setzero_si256();
  if constexpr (kFiveBits) fifth_bits = load_256(w + 16);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const __m256i packed = load_256(qs + 32 * chunk);
    block.codes[2 * chunk] = _mm256_and_si256(packed, low_nibble);
    block.codes[2 * chunk + 1] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble);
  }
  for (int g = 0; g < 8; ++g) {
    if constexpr (kFiveBits) {
      const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(fifth_bits, g), _mm256_set1_epi8(1));
      block.codes[g] = _mm256_or_si256(block.codes[g], _mm256_slli_epi16(bit, 4));
    }
    block.scales[g] = _mm256_set1_epi16(scale16[g]);
  }
  block.d = load_f16(w);
  block.offset_d = -load_f16(w + 2);
}

__attribute__((always_inline)) inline void unpack_q6_k(const uint8_t* w,
                                                       UnpackedSuperBlock& block) {
  const auto* scales = reinterpret_cast<const int8_t*>(w + 192);
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int half = 0; half < 2; ++half) {
    const __m256i low_bytes[2] = {load_256(w + 64 * half), load_256(w + 64 * half + 32)};
    const __m256i high_bytes = load_256(w + 128 + 32 * half);
    for (int j = 0; j < 4; ++j) {
      const __m256i source = low_bytes[j & 1];
      const __m256i low = j < 2 ? _mm256_and_si256(source, low_nibble)
                                : _mm256_and_si256(_mm256_srli_epi16(source, 4), low_nibble);
      const __m256i high = _mm256_and_si256(_mm256_srli_epi16(high_bytes, 2 * j), two_bits);
      const int g = 8 * half + 2 * j;
      block.codes[4 * half + j] = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
      block.scales[4 * half + j] =
          _mm256_set_m128i(_mm_set1_epi16(scales[g + 1]), _mm_set1_epi16(scales[g]));
    }
  }
  block.offset_weights =
      _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales)));
  block.d = load_f16(w + 208);
  block.offset_d = -32.0f * block.d;
}

using Unpacker = void (*)(const uint8_t*, UnpackedSuperBlock&);

// out[t * out_stride] = row · activation t, for n tokens whose activation rows are `stride`
// bytes apart. Tokens go in tiles, each super-block unpacked once per tile.
template <Unpacker kUnpack, size_t kBlockBytes, int kTile>
void dot_tiles_k(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                 float* out, size_t out_stride) {
  for (int first = 0; first < n; first += kTile) {
    const int tile = std::min(kTile, n - first);
    __m256 acc[kTile];
    for (int t = 0; t < tile; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* block_bytes = w;
    for (int64_t b = 0; b < cols / 256; ++b, block_bytes += kBlockBytes) {
      UnpackedSuperBlock block;
      kUnpack(block_bytes, block);
      for (int t = 0; t < tile; ++t) {
        const auto& a = reinterpret_cast<const ActivationBlock256*>(
            activations + static_cast<size_t>(first + t) * stride)[b];
        __m256i sum = _mm256_setzero_si256();
        for (int i = 0; i < 8; ++i) {
          const __m256i products = _mm256_maddubs_epi16(block.codes[i], load_256(a.q + 32 * i));
          sum = _mm256_add_epi32(sum, _mm256_madd_epi16(products, block.scales[i]));
        }
        const __m256i offsets = _mm256_madd_epi16(block.offset_weights, load_256(a.group_sums));
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(a.d * block.d), _mm256_cvtepi32_ps(sum), acc[t]);
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(a.d * block.offset_d), _mm256_cvtepi32_ps(offsets),
                                 acc[t]);
      }
    }
    for (int t = 0; t < tile; ++t)
      out[static_cast<size_t>(first + t) * out_stride] = horizontal_sum(acc[t]);
  }
}

// One token (decode) gets a tile of 1 known at compile time, so the unpacked super-block stays
// in registers; the arithmetic per token is the same as in the tiles of 8.
template <Unpacker kUnpack, size_t kBlockBytes>
void dot_many_k(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                float* out, size_t out_stride) {
  if (n == 1) {
    dot_tiles_k<kUnpack, kBlockBytes, 1>(w, activations, stride, n, cols, out, out_stride);
  } else {
    dot_tiles_k<kUnpack, kBlockBytes, 8>(w, activations, stride, n, cols, out, out_stride);
  }
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

RowDotMany avx2_row_dot_many(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_K:
      return dot_many_k<unpack_q4_k_q5_k<false>, 144>;
    case GgmlType::Q5_K:
      return dot_many_k<unpack_q4_k_q5_k<true>, 176>;
    case GgmlType::Q6_K:
      return dot_many_k<unpack_q6_k, 210>;
    default:
      return nullptr;
  }
}

#else

RowDot avx2_row_dot(GgmlType) { return nullptr; }
RowDotMany avx2_row_dot_many(GgmlType) { return nullptr; }

#endif

}  // namespace moe::cpu::detail
