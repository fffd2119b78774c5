// Vectorized dot products of the IQ and TQ types and MXFP4 (the scalar ones are in
// cpu_quant_dot.cpp), compiled once per SIMD level like cpu_quant_dot_simd.cpp. The integer sums
// are exact, so these differ from the scalar kernels only in the order the float block terms are
// added.
//
// IQ4_NL, IQ4_XS and MXFP4 look their 4-bit codes up in a table with one byte shuffle; the grid
// types (IQ3_*, IQ2_*, IQ1_*) gather their grid entries and spread sign bits to byte masks;
// TQ2_0 unpacks as Q2_K, TQ1_0's base-3 digits come out of 16-bit multiplies.
// Signed codes × signed activations: maddubs takes |code| and the activation with the code's
// sign; |code| <= 127 and |a| <= 127, so no 16-bit pair sum reaches 2^15.
#include <array>

#include "cpu_quant_dot.hpp"
#include "cpu_simd_helpers.hpp"
#include "moe/iq_grids.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

namespace {

// The 32 values of a 32-element block's 16 index bytes (IQ4_NL, each IQ4_XS group, MXFP4) in
// element order, looked up in a table of 16.
__m256i lookup_codes(const int8_t* table, const uint8_t* qs) {
  const __m256i values =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
  return _mm256_shuffle_epi8(values, nibbles_32(qs));
}

__m256i iq4_codes(const uint8_t* qs) { return lookup_codes(kIq4NlValues, qs); }

// --- One block unpacked once, multiplied with each token of a tile ------------------------------
//
// As the K-quant kernels (cpu_quant_dot_simd.cpp): a block is unpacked once per tile of tokens
// and each token's arithmetic is the same code, so a token gets bit-identical results alone (the
// one-token kernel is a tile of 1) or in any batch.

// An IQ4_NL block: its 32 codes (magnitudes and the codes for their signs) and its scale.
struct UnpackedBlock32 {
  __m256i magnitudes;
  __m256i codes;
  float d;
};

__attribute__((always_inline)) inline void unpack_iq4_nl(const uint8_t* w, UnpackedBlock32& block) {
  block.codes = iq4_codes(w + offsetof(BlockIq4Nl, qs));
  block.magnitudes = _mm256_sign_epi8(block.codes, block.codes);
  block.d = load_f16(w + offsetof(BlockIq4Nl, d));
}

// MXFP4: a code 0 (±0) multiplies to 0 either way.
__attribute__((always_inline)) inline void unpack_mxfp4(const uint8_t* w, UnpackedBlock32& block) {
  block.codes = lookup_codes(kMxfp4DoubledValues, w + offsetof(BlockMxfp4, qs));
  block.magnitudes = _mm256_sign_epi8(block.codes, block.codes);
  block.d = mxfp4_half_scale(w[offsetof(BlockMxfp4, e)]);
}

__attribute__((always_inline)) inline void add_block(const UnpackedBlock32& block,
                                                     const ActivationBlock32& a, __m256& acc) {
  const __m256i pairs =
      _mm256_maddubs_epi16(block.magnitudes, _mm256_sign_epi8(load_256(a.q), block.codes));
  const __m256i products = add_dot_pairs_16(_mm256_setzero_si256(), pairs, _mm256_set1_epi16(1));
  acc = _mm256_fmadd_ps(_mm256_set1_ps(block.d * a.d), _mm256_cvtepi32_ps(products), acc);
}

// A 256-element super-block: 8 × 32 codes, the int16 scale of each element pair, the float d
// (the decoded d of SuperBlockCodes).
struct UnpackedSuperBlock {
  __m256i magnitudes[8];
  __m256i codes[8];
  __m256i scales[8];
  float d;
};

__attribute__((always_inline)) inline void unpack_iq4_xs(const uint8_t* w,
                                                         UnpackedSuperBlock& block) {
  const uint8_t* scales_l = w + offsetof(BlockIq4Xs, scales_l);
  const uint16_t scales_h = load_u16(w + offsetof(BlockIq4Xs, scales_h));
  for (int g = 0; g < 8; ++g) {
    const int low = (scales_l[g / 2] >> (4 * (g % 2))) & 0xf;
    const int scale = (low | ((scales_h >> (2 * g)) & 3) << 4) - 32;
    block.scales[g] = _mm256_set1_epi16(static_cast<int16_t>(scale));
    block.codes[g] = iq4_codes(w + offsetof(BlockIq4Xs, qs) + 16 * g);
    block.magnitudes[g] = _mm256_sign_epi8(block.codes[g], block.codes[g]);
  }
  block.d = load_f16(w + offsetof(BlockIq4Xs, d));
}

// --- The grid and ternary types unpacked in registers --------------------------------------------
// The same integers as their portable decoders (moe/gguf_blocks.hpp's super_block_decoder,
// core/gguf/iq_codes.cpp), so the same results: grid entries are gathered with scalar loads (as
// ggml's kernels do), the signs spread from bits to byte masks.

// The sign byte of 7 stored sign bits: the eighth makes the number of minus signs even.
constexpr std::array<uint8_t, 128> signs_with_parity() {
  std::array<uint8_t, 128> table{};
  for (int bits = 0; bits < 128; ++bits) {
    int ones = 0;
    for (int b = 0; b < 7; ++b) ones += (bits >> b) & 1;
    table[bits] = static_cast<uint8_t>(bits | (ones & 1) << 7);
  }
  return table;
}
constexpr std::array<uint8_t, 128> kSignsWithParity = signs_with_parity();

// Four 7-bit sign fields (bits 7l .. 7l + 6 of `packed`) as 32 sign bits, element i at bit i.
uint32_t parity_signs_32(uint32_t packed) {
  uint32_t signs = 0;
  for (int l = 0; l < 4; ++l)
    signs |= uint32_t{kSignsWithParity[(packed >> (7 * l)) & 127]} << (8 * l);
  return signs;
}

// Group i (32 elements) from its magnitudes and sign bits (bit j set: element j negative).
__attribute__((always_inline)) inline void set_signed_group(UnpackedSuperBlock& block, int i,
                                                            __m256i magnitudes, uint32_t signs) {
  const __m256i negative = bits_to_bytes(signs);
  block.magnitudes[i] = magnitudes;
  block.codes[i] = _mm256_sub_epi8(_mm256_xor_si256(magnitudes, negative), negative);
}

// The int16 scales of group i's two halves of 16.
__attribute__((always_inline)) inline void set_group_scales(UnpackedSuperBlock& block, int i,
                                                            int first, int second) {
  block.scales[i] = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(second)),
                                     _mm_set1_epi16(static_cast<int16_t>(first)));
}

__m256i grid_entries(uint64_t e0, uint64_t e1, uint64_t e2, uint64_t e3) {
  return _mm256_setr_epi64x(static_cast<long long>(e0), static_cast<long long>(e1),
                            static_cast<long long>(e2), static_cast<long long>(e3));
}

void unpack_iq2_xxs(const uint8_t* w, UnpackedSuperBlock& block) {
  for (int g = 0; g < 8; ++g) {
    const uint8_t* group = w + offsetof(BlockIq2Xxs, qs) + 8 * g;
    const uint32_t signs_and_scale = load_u32(group + 4);
    const int scale = 2 * static_cast<int>(signs_and_scale >> 28) + 1;
    set_group_scales(block, g, scale, scale);
    set_signed_group(block, g,
                     grid_entries(iq::kIq2XxsGrid[group[0]], iq::kIq2XxsGrid[group[1]],
                                  iq::kIq2XxsGrid[group[2]], iq::kIq2XxsGrid[group[3]]),
                     parity_signs_32(signs_and_scale));
  }
  block.d = load_f16(w + offsetof(BlockIq2Xxs, d)) * 0.125f;
}

void unpack_iq2_xs(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* scales = w + offsetof(BlockIq2Xs, scales);
  for (int g = 0; g < 8; ++g) {
    uint64_t entries[4];
    uint32_t signs = 0;
    for (int l = 0; l < 4; ++l) {
      const uint16_t packed = load_u16(w + offsetof(BlockIq2Xs, qs) + 2 * (4 * g + l));
      entries[l] = iq::kIq2XsGrid[packed & 511];
      signs |= uint32_t{kSignsWithParity[packed >> 9]} << (8 * l);
    }
    set_group_scales(block, g, 2 * (scales[g] & 0xf) + 1, 2 * (scales[g] >> 4) + 1);
    set_signed_group(block, g, grid_entries(entries[0], entries[1], entries[2], entries[3]),
                     signs);
  }
  block.d = load_f16(w + offsetof(BlockIq2Xs, d)) * 0.125f;
}

void unpack_iq2_s(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* qs = w + offsetof(BlockIq2S, qs);
  const uint8_t* qh = w + offsetof(BlockIq2S, qh);
  const uint8_t* scales = w + offsetof(BlockIq2S, scales);
  for (int g = 0; g < 8; ++g) {
    uint64_t entries[4];
    for (int l = 0; l < 4; ++l)
      entries[l] = iq::kIq2SGrid[qs[4 * g + l] | ((qh[g] >> (2 * l)) & 3) << 8];
    set_group_scales(block, g, 2 * (scales[g] & 0xf) + 1, 2 * (scales[g] >> 4) + 1);
    set_signed_group(block, g, grid_entries(entries[0], entries[1], entries[2], entries[3]),
                     load_u32(qs + 32 + 4 * g));
  }
  block.d = load_f16(w + offsetof(BlockIq2S, d)) * 0.125f;
}

void unpack_iq3_xxs(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* qs = w + offsetof(BlockIq3Xxs, qs);
  for (int g = 0; g < 8; ++g) {
    const uint8_t* index = qs + 8 * g;
    const uint32_t signs_and_scale = load_u32(qs + 64 + 4 * g);
    const int scale = 2 * static_cast<int>(signs_and_scale >> 28) + 1;
    set_group_scales(block, g, scale, scale);
    const __m256i magnitudes = _mm256_setr_epi32(
        static_cast<int>(iq::kIq3XxsGrid[index[0]]), static_cast<int>(iq::kIq3XxsGrid[index[1]]),
        static_cast<int>(iq::kIq3XxsGrid[index[2]]), static_cast<int>(iq::kIq3XxsGrid[index[3]]),
        static_cast<int>(iq::kIq3XxsGrid[index[4]]), static_cast<int>(iq::kIq3XxsGrid[index[5]]),
        static_cast<int>(iq::kIq3XxsGrid[index[6]]), static_cast<int>(iq::kIq3XxsGrid[index[7]]));
    set_signed_group(block, g, magnitudes, parity_signs_32(signs_and_scale));
  }
  block.d = load_f16(w + offsetof(BlockIq3Xxs, d)) * 0.25f;
}

void unpack_iq3_s(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* qs = w + offsetof(BlockIq3S, qs);
  const uint8_t* qh = w + offsetof(BlockIq3S, qh);
  const uint8_t* scales = w + offsetof(BlockIq3S, scales);
  for (int g = 0; g < 8; ++g) {
    int entries[8];
    for (int k = 0; k < 8; ++k)
      entries[k] = static_cast<int>(iq::kIq3SGrid[qs[8 * g + k] | ((qh[g] >> k) & 1) << 8]);
    const int scale = 2 * ((scales[g / 2] >> (4 * (g % 2))) & 0xf) + 1;
    set_group_scales(block, g, scale, scale);
    set_signed_group(block, g,
                     _mm256_setr_epi32(entries[0], entries[1], entries[2], entries[3], entries[4],
                                       entries[5], entries[6], entries[7]),
                     load_u32(w + offsetof(BlockIq3S, signs) + 4 * g));
  }
  block.d = load_f16(w + offsetof(BlockIq3S, d));
}

// IQ1: codes 8 * grid + shift, the grid bytes -1, 0, 1 and each 8 elements' shift +1 or -1
// (a byte 0x01 or 0xff in `shifts`). No code is 0.
__attribute__((always_inline)) inline void set_iq1_group(UnpackedSuperBlock& block, int i,
                                                         __m256i grid, __m256i shifts) {
  block.codes[i] = _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), grid), shifts);
  block.magnitudes[i] = _mm256_sign_epi8(block.codes[i], block.codes[i]);
}

constexpr uint64_t kPlusOnes = 0x0101010101010101ULL, kMinusOnes = ~uint64_t{0};

void unpack_iq1_s(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* qs = w + offsetof(BlockIq1S, qs);
  for (int g = 0; g < 8; ++g) {
    const uint16_t high = load_u16(w + offsetof(BlockIq1S, qh) + 2 * g);
    const int scale = 2 * ((high >> 12) & 7) + 1;
    set_group_scales(block, g, scale, scale);
    uint64_t entries[4];
    for (int l = 0; l < 4; ++l)
      entries[l] = iq::kIq1SGrid[qs[4 * g + l] | ((high >> (3 * l)) & 7) << 8];
    const __m256i shifts = _mm256_set1_epi8(high & 0x8000 ? -1 : 1);
    set_iq1_group(block, g, grid_entries(entries[0], entries[1], entries[2], entries[3]), shifts);
  }
  block.d = load_f16(w + offsetof(BlockIq1S, d)) * 0.125f;
}

void unpack_iq1_m(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* qs = w + offsetof(BlockIq1M, qs);
  const uint8_t* qh = w + offsetof(BlockIq1M, qh);
  uint16_t words[4];
  for (int i = 0; i < 4; ++i) words[i] = load_u16(w + offsetof(BlockIq1M, scales) + 2 * i);
  for (int g = 0; g < 8; ++g) {
    const int shift = 6 * (g % 2);
    set_group_scales(block, g, 2 * ((words[g / 2] >> shift) & 7) + 1,
                     2 * ((words[g / 2] >> (shift + 3)) & 7) + 1);
    uint64_t entries[4], shifts[4];
    for (int l = 0; l < 4; ++l) {
      const int nibble = (qh[2 * g + l / 2] >> (4 * (l % 2))) & 0xf;
      entries[l] = iq::kIq1SGrid[qs[4 * g + l] | (nibble & 7) << 8];
      shifts[l] = nibble & 8 ? kMinusOnes : kPlusOnes;
    }
    set_iq1_group(block, g, grid_entries(entries[0], entries[1], entries[2], entries[3]),
                  grid_entries(shifts[0], shifts[1], shifts[2], shifts[3]));
  }
  const auto d_bits = static_cast<uint16_t>((words[0] >> 12) | ((words[1] >> 8) & 0x00f0) |
                                            ((words[2] >> 4) & 0x0f00) | (words[3] & 0xf000));
  block.d = _cvtsh_ss(d_bits) * 0.125f;
}

// TQ2_0: Q2_K's element order, codes 0..3 minus 1 (a code 0 multiplies to 0 either way).
void unpack_tq2_0(const uint8_t* w, UnpackedSuperBlock& block) {
  const __m256i two_bits = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  for (int half = 0; half < 2; ++half) {
    const __m256i packed = load_256(w + offsetof(BlockTq2_0, qs) + 32 * half);
    for (int shift = 0; shift < 4; ++shift) {
      const int i = 4 * half + shift;
      block.codes[i] = _mm256_sub_epi8(
          _mm256_and_si256(_mm256_srli_epi16(packed, 2 * shift), two_bits), one);
      block.magnitudes[i] = _mm256_sign_epi8(block.codes[i], block.codes[i]);
      block.scales[i] = _mm256_set1_epi16(1);
    }
  }
  block.d = load_f16(w + offsetof(BlockTq2_0, d));
}

// TQ1_0's base-3 digits in 16-bit lanes: digit n of byte b is 3 * (b * 3^n mod 256) >> 8, for
// each lane's b (zero-extended) and multiplier 3^n.
__m256i ternary_digits(__m256i bytes, __m256i powers_of_3) {
  const __m256i shifted =
      _mm256_and_si256(_mm256_mullo_epi16(bytes, powers_of_3), _mm256_set1_epi16(0xff));
  return _mm256_srli_epi16(_mm256_mullo_epi16(shifted, _mm256_set1_epi16(3)), 8);
}

__m256i widen_16(const uint8_t* bytes) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
}

// 32 codes (digit - 1): `first`'s 16 digits, then `second`'s.
__m256i ternary_codes(__m256i first, __m256i second) {
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(first, second), 0xd8);
  return _mm256_sub_epi8(packed, _mm256_set1_epi8(1));
}

// TQ1_0 (the element order of iq_codes.cpp's tq1_0_codes): qs[0..31]'s digit n is chunk n,
// qs[32..47]'s digits 0..4 fill elements 160..239, qh's digits 0..3 elements 240..255.
void unpack_tq1_0(const uint8_t* w, UnpackedSuperBlock& block) {
  const uint8_t* qs = w + offsetof(BlockTq1_0, qs);
  const __m256i low = widen_16(qs), high = widen_16(qs + 16), tail = widen_16(qs + 32);
  static constexpr int16_t kPowersOf3[5] = {1, 3, 9, 27, 81};
  __m256i tail_digits[5];
  for (int n = 0; n < 5; ++n) {
    const __m256i power = _mm256_set1_epi16(kPowersOf3[n]);
    block.codes[n] = ternary_codes(ternary_digits(low, power), ternary_digits(high, power));
    tail_digits[n] = ternary_digits(tail, power);
  }
  // Lane 4n + j: byte qh[j], multiplier 3^n.
  const uint32_t qh = load_u32(w + offsetof(BlockTq1_0, qh));
  const __m256i qh_bytes = _mm256_cvtepu8_epi16(_mm_set1_epi32(static_cast<int>(qh)));
  const __m256i qh_powers = _mm256_setr_epi16(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27);
  block.codes[5] = ternary_codes(tail_digits[0], tail_digits[1]);
  block.codes[6] = ternary_codes(tail_digits[2], tail_digits[3]);
  block.codes[7] = ternary_codes(tail_digits[4], ternary_digits(qh_bytes, qh_powers));
  for (int i = 0; i < 8; ++i) {
    block.magnitudes[i] = _mm256_sign_epi8(block.codes[i], block.codes[i]);
    block.scales[i] = _mm256_set1_epi16(1);
  }
  block.d = load_f16(w + offsetof(BlockTq1_0, d));
}

__attribute__((always_inline)) inline void add_block(const UnpackedSuperBlock& block,
                                                     const ActivationBlock256& a, __m256& acc) {
  __m256i sum = _mm256_setzero_si256();
  for (int i = 0; i < 8; ++i) {
    const __m256i pairs = _mm256_maddubs_epi16(
        block.magnitudes[i], _mm256_sign_epi8(load_256(a.q + 32 * i), block.codes[i]));
    sum = add_dot_pairs_16(sum, pairs, block.scales[i]);
  }
  acc = _mm256_fmadd_ps(_mm256_set1_ps(a.d * block.d), _mm256_cvtepi32_ps(sum), acc);
}

// out[t * out_stride] = row · activation t for n tokens `stride` bytes apart, in tiles of kTile.
template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes, int kTile>
void dot_tiles(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
               float* out, size_t out_stride) {
  constexpr int64_t kElements = sizeof(Activation::q);
  for (int first = 0; first < n; first += kTile) {
    const int tile = n - first < kTile ? n - first : kTile;
    __m256 acc[kTile];
    for (int t = 0; t < tile; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* block_bytes = w;
    for (int64_t b = 0; b < cols / kElements; ++b, block_bytes += kBlockBytes) {
      prefetch_ahead<kBlockBytes>(block_bytes);
      Unpacked block;
      kUnpack(block_bytes, block);
      for (int t = 0; t < tile; ++t) {
        const auto& a = reinterpret_cast<const Activation*>(
            activations + static_cast<size_t>(first + t) * stride)[b];
        add_block(block, a, acc[t]);
      }
    }
    for (int t = 0; t < tile; ++t)
      out[static_cast<size_t>(first + t) * out_stride] = horizontal_sum(acc[t]);
  }
}

template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes>
void dot_many(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
              float* out, size_t out_stride) {
  if (n == 1) {
    dot_tiles<Unpacked, Activation, kUnpack, kBlockBytes, 1>(w, activations, stride, n, cols, out,
                                                             out_stride);
  } else {
    dot_tiles<Unpacked, Activation, kUnpack, kBlockBytes, 8>(w, activations, stride, n, cols, out,
                                                             out_stride);
  }
}

template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes>
float dot_one(const uint8_t* w, const void* activation, int64_t cols) {
  float result;
  dot_tiles<Unpacked, Activation, kUnpack, kBlockBytes, 1>(
      w, static_cast<const uint8_t*>(activation), 0, 1, cols, &result, 1);
  return result;
}

struct Kernels {
  RowDot one;
  RowDotMany many;
};

template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes>
constexpr Kernels kernels() {
  return {dot_one<Unpacked, Activation, kUnpack, kBlockBytes>,
          dot_many<Unpacked, Activation, kUnpack, kBlockBytes>};
}

template <void (*kUnpack)(const uint8_t*, UnpackedSuperBlock&), size_t kBlockBytes>
constexpr Kernels super_block_kernels() {
  return kernels<UnpackedSuperBlock, ActivationBlock256, kUnpack, kBlockBytes>();
}

Kernels kernels_for(GgmlType type) {
  switch (type) {
    case GgmlType::IQ4_NL:
      return kernels<UnpackedBlock32, ActivationBlock32, unpack_iq4_nl, sizeof(BlockIq4Nl)>();
    case GgmlType::MXFP4:
      return kernels<UnpackedBlock32, ActivationBlock32, unpack_mxfp4, sizeof(BlockMxfp4)>();
    case GgmlType::IQ4_XS:
      return super_block_kernels<unpack_iq4_xs, sizeof(BlockIq4Xs)>();
    case GgmlType::IQ3_XXS:
      return super_block_kernels<unpack_iq3_xxs, sizeof(BlockIq3Xxs)>();
    case GgmlType::IQ3_S:
      return super_block_kernels<unpack_iq3_s, sizeof(BlockIq3S)>();
    case GgmlType::IQ2_XXS:
      return super_block_kernels<unpack_iq2_xxs, sizeof(BlockIq2Xxs)>();
    case GgmlType::IQ2_XS:
      return super_block_kernels<unpack_iq2_xs, sizeof(BlockIq2Xs)>();
    case GgmlType::IQ2_S:
      return super_block_kernels<unpack_iq2_s, sizeof(BlockIq2S)>();
    case GgmlType::IQ1_S:
      return super_block_kernels<unpack_iq1_s, sizeof(BlockIq1S)>();
    case GgmlType::IQ1_M:
      return super_block_kernels<unpack_iq1_m, sizeof(BlockIq1M)>();
    case GgmlType::TQ1_0:
      return super_block_kernels<unpack_tq1_0, sizeof(BlockTq1_0)>();
    case GgmlType::TQ2_0:
      return super_block_kernels<unpack_tq2_0, sizeof(BlockTq2_0)>();
    default:
      return {nullptr, nullptr};
  }
}

}  // namespace

RowDot iq_row_dot(GgmlType type) { return kernels_for(type).one; }

RowDotMany iq_row_dot_many(GgmlType type) { return kernels_for(type).many; }

}  // namespace moe::cpu::detail::MOE_SIMD_NS
