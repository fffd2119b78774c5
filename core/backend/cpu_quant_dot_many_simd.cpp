// Several tokens per weight row (prefill) for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K and Q3_K: each
// weight block is unpacked once (codes, signs, scales) and used for a tile of tokens, instead of
// once per token as the one-token kernels of cpu_quant_dot_simd.cpp do.
//
// Each token's arithmetic is that of the one-token kernel, operation for operation: the same
// integer lanes, the same float scale products and fused multiply-adds in the same order, the
// same final sums. So a token's result is bit-identical to row_dot's and never depends on
// the batch it came in (the backend uses these for one token too). Keep them in step when the
// one-token kernels change; test_cpu_quant_dot checks it.
#include "cpu_quant_dot.hpp"

#include "cpu_simd_helpers.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

namespace {

// --- 32-element blocks --------------------------------------------------------------------------

// One block unpacked: per token, products = maddubs(magnitudes, a.q with signs' signs) summed
// to 8 × int32; value = d * a.d * products (+ offset * a.sum for Q4_1 / Q5_1).
struct Block32 {
  __m256i magnitudes;  // unsigned codes (signed types: |q|)
  __m256i signs;       // signed types: q, whose signs move onto the activations
  float d;
  float offset;  // Q4_1 / Q5_1
};

// Signed codes q: the one-token kernels' dot_signed_signed(q, a).
void set_signed(Block32& block, __m256i q) {
  block.magnitudes = _mm256_sign_epi8(q, q);
  block.signs = q;
}

__attribute__((always_inline)) inline void unpack_q8_0(const uint8_t* w, Block32& block) {
  set_signed(block, load_256(w + offsetof(BlockQ8_0, qs)));
  block.d = load_f16(w + offsetof(BlockQ8_0, d));
}

__attribute__((always_inline)) inline void unpack_q4_0(const uint8_t* w, Block32& block) {
  set_signed(block, _mm256_sub_epi8(nibbles_32(w + offsetof(BlockQ4_0, qs)), _mm256_set1_epi8(8)));
  block.d = load_f16(w + offsetof(BlockQ4_0, d));
}

__attribute__((always_inline)) inline void unpack_q5_0(const uint8_t* w, Block32& block) {
  // (code | bit << 4) - 16 == code - 16 where the bit is clear: set the byte's high nibble.
  const __m256i clear = _mm256_andnot_si256(bits_to_bytes(load_u32(w + offsetof(BlockQ5_0, qh))),
                                            _mm256_set1_epi8(-16));
  set_signed(block, _mm256_or_si256(nibbles_32(w + offsetof(BlockQ5_0, qs)), clear));
  block.d = load_f16(w + offsetof(BlockQ5_0, d));
}

__attribute__((always_inline)) inline void unpack_q4_1(const uint8_t* w, Block32& block) {
  block.magnitudes = nibbles_32(w + offsetof(BlockQ4_1, qs));
  block.d = load_f16(w + offsetof(BlockQ4_1, d));
  block.offset = load_f16(w + offsetof(BlockQ4_1, m));
}

__attribute__((always_inline)) inline void unpack_q5_1(const uint8_t* w, Block32& block) {
  const __m256i high =
      _mm256_and_si256(bits_to_bytes(load_u32(w + offsetof(BlockQ5_1, qh))), _mm256_set1_epi8(16));
  block.magnitudes = _mm256_or_si256(nibbles_32(w + offsetof(BlockQ5_1, qs)), high);
  block.d = load_f16(w + offsetof(BlockQ5_1, d));
  block.offset = load_f16(w + offsetof(BlockQ5_1, m));
}

using Unpack32 = void (*)(const uint8_t*, Block32&);

template <Unpack32 kUnpack, size_t kBlockBytes, bool kSigned, bool kOffset, int kTile>
void dot_tiles_32(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                  float* out, size_t out_stride) {
  for (int first = 0; first < n; first += kTile) {
    const int tile = n - first < kTile ? n - first : kTile;
    const uint8_t* a0 = activations + static_cast<size_t>(first) * stride;
    __m256 acc[kTile];
    float offsets[kTile];
    for (int t = 0; t < tile; ++t) {
      acc[t] = _mm256_setzero_ps();
      offsets[t] = 0.0f;
    }
    const uint8_t* block_bytes = w;
    for (int64_t b = 0; b < cols / 32; ++b, block_bytes += kBlockBytes) {
      Block32 block;
      prefetch_ahead<kBlockBytes>(block_bytes);
      kUnpack(block_bytes, block);
      for (int t = 0; t < tile; ++t) {
        const auto& a =
            reinterpret_cast<const ActivationBlock32*>(a0 + static_cast<size_t>(t) * stride)[b];
        __m256i q = load_256(a.q);
        if constexpr (kSigned) q = _mm256_sign_epi8(q, block.signs);
        const __m256i products = dot_unsigned_signed(block.magnitudes, q);
        acc[t] =
            _mm256_fmadd_ps(_mm256_set1_ps(block.d * a.d), _mm256_cvtepi32_ps(products), acc[t]);
        if constexpr (kOffset) offsets[t] += block.offset * a.sum;
      }
    }
    for (int t = 0; t < tile; ++t) {
      float result = horizontal_sum(acc[t]);
      if constexpr (kOffset) result = result + offsets[t];
      out[static_cast<size_t>(first + t) * out_stride] = result;
    }
  }
}

// One token (decode) gets a tile of 1 known at compile time: the unpacked block stays in
// registers and the loop is the one-token kernel's.
template <Unpack32 kUnpack, size_t kBlockBytes, bool kSigned, bool kOffset>
void dot_many_32(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                 float* out, size_t out_stride) {
  if (n == 1) {
    dot_tiles_32<kUnpack, kBlockBytes, kSigned, kOffset, 1>(w, activations, stride, n, cols, out,
                                                            out_stride);
  } else {
    dot_tiles_32<kUnpack, kBlockBytes, kSigned, kOffset, 8>(w, activations, stride, n, cols, out,
                                                            out_stride);
  }
}

// --- Q2_K and Q3_K super-blocks -----------------------------------------------------------------

// One super-block unpacked: 8 × 32 unsigned codes (elements 32i .. 32i + 31), the int16 scale of
// each element pair, the per-16-element weights of the offset term (Σ_g offset_g · Σa_g).
// Q2_K: value = a.d * d * Σ scale·code·a - a.d * offset_d * offset_sum.
// Q3_K: codes are stored + 4; lane 0 of the integer sum takes -4 · offset_sum, value =
//       a.d * d * sum.
struct SuperBlock {
  __m256i codes[8];
  __m256i scales[8];
  __m256i offset_weights;  // 16 × int16
  float d;
  float offset_d;  // Q2_K
};

__m256i pair_scales(int first, int second) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(second)),
                          _mm_set1_epi16(static_cast<int16_t>(first)));
}

__attribute__((always_inline)) inline void unpack_q2_k(const uint8_t* w, SuperBlock& block) {
  const uint8_t* scales = w + offsetof(BlockQ2_K, scales);
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int half = 0; half < 2; ++half) {
    const __m256i packed = load_256(w + offsetof(BlockQ2_K, qs) + 32 * half);
    for (int shift = 0; shift < 4; ++shift) {
      const int g = 8 * half + 2 * shift;
      block.codes[4 * half + shift] =
          _mm256_and_si256(_mm256_srli_epi16(packed, 2 * shift), two_bits);
      block.scales[4 * half + shift] = pair_scales(scales[g] & 0xf, scales[g + 1] & 0xf);
    }
  }
  const __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales));
  block.offset_weights =
      _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(scale_bytes, 4), _mm_set1_epi8(0x0f)));
  block.d = load_f16(w + offsetof(BlockQ2_K, d));
  block.offset_d = load_f16(w + offsetof(BlockQ2_K, dmin));
}

// The 16 signed 6-bit group scales of a Q3_K block (q3_k_scale: low 4 bits of scale g in
// nibble g of bytes 0-7, low nibbles first; top 2 bits of scale g at bit 2 (g / 4) of byte
// 8 + g % 4), as 16 × int16, all at once. Decoded in registers: writing them one by one to memory
// and loading them as a vector stalls the load.
__m256i q3_k_scales(const uint8_t* packed) {
  const __m128i low_bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed));
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(low_bytes, nibble),
                                         _mm_and_si128(_mm_srli_epi16(low_bytes, 4), nibble));
  const __m128i high_word = _mm_set1_epi32(static_cast<int>(load_u32(packed + 8)));
  const __m128i high =
      _mm_and_si128(_mm_srlv_epi32(high_word, _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
  const __m128i scales =
      _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
  return _mm256_cvtepi8_epi16(scales);
}

__attribute__((always_inline)) inline void unpack_q3_k(const uint8_t* w, SuperBlock& block) {
  block.offset_weights = q3_k_scales(w + offsetof(BlockQ3_K, scales));
  alignas(32) int16_t scale[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(scale), block.offset_weights);
  const __m256i hmask = load_256(w + offsetof(BlockQ3_K, hmask));
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i one_bit = _mm256_set1_epi8(1);
  for (int half = 0; half < 2; ++half) {
    const __m256i low_bits = load_256(w + offsetof(BlockQ3_K, qs) + 32 * half);
    for (int shift = 0; shift < 4; ++shift) {
      const __m256i low = _mm256_and_si256(_mm256_srli_epi16(low_bits, 2 * shift), two_bits);
      const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * half + shift), one_bit);
      const int g = 8 * half + 2 * shift;
      block.codes[4 * half + shift] = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
      block.scales[4 * half + shift] = pair_scales(scale[g], scale[g + 1]);
    }
  }
  block.d = load_f16(w + offsetof(BlockQ3_K, d));
  block.offset_d = 0.0f;
}

using UnpackSuper = void (*)(const uint8_t*, SuperBlock&);

// Σ_i of the 8 int32 lanes of v (exact).
int32_t lane_sum(__m256i v) {
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
  return _mm_cvtsi128_si32(sum);
}

template <UnpackSuper kUnpack, size_t kBlockBytes, bool kQ3, int kTile>
void dot_tiles_k(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                 float* out, size_t out_stride) {
  for (int first = 0; first < n; first += kTile) {
    const int tile = n - first < kTile ? n - first : kTile;
    const uint8_t* a0 = activations + static_cast<size_t>(first) * stride;
    __m256 acc[kTile];
    float offsets[kTile];
    for (int t = 0; t < tile; ++t) {
      acc[t] = _mm256_setzero_ps();
      offsets[t] = 0.0f;
    }
    const uint8_t* block_bytes = w;
    for (int64_t b = 0; b < cols / 256; ++b, block_bytes += kBlockBytes) {
      SuperBlock block;
      prefetch_ahead<kBlockBytes>(block_bytes);
      kUnpack(block_bytes, block);
      for (int t = 0; t < tile; ++t) {
        const auto& a =
            reinterpret_cast<const ActivationBlock256*>(a0 + static_cast<size_t>(t) * stride)[b];
        const int32_t offset_sum =
            lane_sum(_mm256_madd_epi16(block.offset_weights, load_256(a.group_sums)));
        __m256i sum = _mm256_setzero_si256();
        for (int i = 0; i < 8; ++i) {
          const __m256i products = _mm256_maddubs_epi16(block.codes[i], load_256(a.q + 32 * i));
          sum = add_dot_pairs_16(sum, products, block.scales[i]);
        }
        if constexpr (kQ3) {
          sum = _mm256_sub_epi32(sum, _mm256_setr_epi32(4 * offset_sum, 0, 0, 0, 0, 0, 0, 0));
          acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(a.d * block.d), _mm256_cvtepi32_ps(sum), acc[t]);
        } else {
          const float d = a.d * block.d;
          acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc[t]);
          offsets[t] += a.d * block.offset_d * static_cast<float>(offset_sum);
        }
      }
    }
    for (int t = 0; t < tile; ++t) {
      float result = horizontal_sum(acc[t]);
      if constexpr (!kQ3) result = result - offsets[t];
      out[static_cast<size_t>(first + t) * out_stride] = result;
    }
  }
}

template <UnpackSuper kUnpack, size_t kBlockBytes, bool kQ3>
void dot_many_k(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                float* out, size_t out_stride) {
  if (n == 1) {
    dot_tiles_k<kUnpack, kBlockBytes, kQ3, 1>(w, activations, stride, n, cols, out, out_stride);
  } else {
    dot_tiles_k<kUnpack, kBlockBytes, kQ3, 8>(w, activations, stride, n, cols, out, out_stride);
  }
}

}  // namespace

RowDotMany block_dot_many(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return dot_many_32<unpack_q4_0, sizeof(BlockQ4_0), true, false>;
    case GgmlType::Q4_1:
      return dot_many_32<unpack_q4_1, sizeof(BlockQ4_1), false, true>;
    case GgmlType::Q5_0:
      return dot_many_32<unpack_q5_0, sizeof(BlockQ5_0), true, false>;
    case GgmlType::Q5_1:
      return dot_many_32<unpack_q5_1, sizeof(BlockQ5_1), false, true>;
    case GgmlType::Q8_0:
      return dot_many_32<unpack_q8_0, sizeof(BlockQ8_0), true, false>;
    case GgmlType::Q2_K:
      return dot_many_k<unpack_q2_k, sizeof(BlockQ2_K), false>;
    case GgmlType::Q3_K:
      return dot_many_k<unpack_q3_k, sizeof(BlockQ3_K), true>;
    default:
      return nullptr;
  }
}

}  // namespace moe::cpu::detail::MOE_SIMD_NS
