#pragma once
// The quantization blocks of ggml tensors as GGUF files store them, written once: one struct per
// block type, its size and field offsets checked by the compiler, and the decoding of the
// K-quants' packed 6-bit group scales. The conversion code (core/gguf/quants.cpp), the CPU
// kernels and the GL backend (which passes sizes and offsets to its shaders) take their layouts
// from here.
//
// Every field is a byte array, so a block has alignment 1 and may start at any byte of a row;
// multi-byte fields are little-endian, read with moe/little_endian.hpp. f16 fields are IEEE
// halves. The value of element i, with q its code:
//   Q4_0  x = d * (q - 8)            Q4_1  x = d * q + m          (4-bit q)
//   Q5_0  x = d * (q - 16)           Q5_1  x = d * q + m          (5-bit q: fifth bit in qh)
//   Q8_0  x = d * q                  MXFP4 x = 2^(e - 127) * E2M1(q)
// In the 32-element blocks byte j of qs holds element j in its low nibble and element j + 16 in
// its high nibble; the fifth bit of element i is bit i of qh (a little-endian u32).
// The K-quants' element orders: k_quant_codes below (core/gguf/block_codes.cpp). The IQ and TQ
// types (non-linear, grid and ternary codes): super_block_codes below (core/gguf/iq_codes.cpp).
#include <cstddef>
#include <cstdint>

#include "moe/ggml_types.hpp"

namespace moe {

inline constexpr int kBlockElements = 32;        // Q4_0 .. Q8_0, MXFP4
inline constexpr int kSuperBlockElements = 256;  // the K-quants

struct BlockQ4_0 {
  uint8_t d[2];  // f16
  uint8_t qs[16];
};
struct BlockQ4_1 {
  uint8_t d[2];  // f16
  uint8_t m[2];  // f16
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint8_t d[2];  // f16
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint8_t d[2];  // f16
  uint8_t m[2];  // f16
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {
  uint8_t d[2];  // f16
  int8_t qs[32];
};
struct BlockQ8_1 {
  uint8_t d[2];  // f16
  uint8_t s[2];  // f16: d * Σq
  int8_t qs[32];
};
struct BlockMxfp4 {
  uint8_t e;  // E8M0 exponent
  uint8_t qs[16];
};
// MXFP4's E2M1 codes doubled, so that every value is an integer (ggml's kvalues_mxfp4): element
// x = 2^(e - 128) * kMxfp4DoubledValues[q].
inline constexpr int8_t kMxfp4DoubledValues[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                                   0, -1, -2, -3, -4, -6, -8, -12};
// 2^(e - 128) exactly (2^-128 and 2^-127 are f32 subnormals).
[[gnu::always_inline]] inline float mxfp4_half_scale(uint8_t e) {
  const uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof(scale));
  return scale;
}

// 16 groups of 16: a 4-bit scale (low nibble) and 4-bit min (high nibble) per group.
// x = d * scale * q - dmin * min, q 2-bit.
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];
  uint8_t d[2];     // f16
  uint8_t dmin[2];  // f16
};
// 16 groups of 16 with signed 6-bit scales (q3_k_scale); x = d * scale * q, q the 2 low bits
// from qs and a third bit from hmask (clear: minus 4).
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint8_t d[2];  // f16
};
// 8 groups of 32 with 6-bit scales and mins (k_quant_scale_and_min);
// x = d * scale * q - dmin * min, q 4-bit (Q4_K) or 5-bit with the fifth bit in qh (Q5_K).
struct BlockQ4_K {
  uint8_t d[2];     // f16
  uint8_t dmin[2];  // f16
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint8_t d[2];     // f16
  uint8_t dmin[2];  // f16
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
// 16 groups of 16 with int8 scales; x = d * scale * (q - 32), q 6-bit: 4 bits in ql, 2 in qh.
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint8_t d[2];  // f16
};
// The K-quants' activation format in ggml (x = d * q); stored in some GGUF files.
struct BlockQ8_K {
  uint8_t d[4];  // f32
  int8_t qs[256];
  uint8_t bsums[32];  // 16 × int16: Σq per 16 elements
};

// --- The IQ and TQ types ---------------------------------------------------------------------
// IQ4_NL: a 32-element block of 4-bit indices into kIq4NlValues, in Q4_0's nibble order;
// x = d * kIq4NlValues[q].
struct BlockIq4Nl {
  uint8_t d[2];  // f16
  uint8_t qs[16];
};
// The 16 values of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl).
inline constexpr int8_t kIq4NlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
// IQ4_XS: 8 groups of 32 with 6-bit scales (low 4 bits in scales_l, high 2 in scales_h), the
// indices of group g in qs[16g .. 16g + 15] as IQ4_NL's.
struct BlockIq4Xs {
  uint8_t d[2];         // f16
  uint8_t scales_h[2];  // u16
  uint8_t scales_l[4];
  uint8_t qs[128];
};
// Grid types: each 8 (IQ3: 4) elements are one entry of a grid of magnitudes (core/gguf/
// iq_grids.cpp) with 8 sign bits; 4-bit group scales s give x = d * (2s + 1) / 8 * grid * sign
// (IQ3_XXS: / 4; IQ3_S: d * (2s + 1)).
struct BlockIq2Xxs {
  uint8_t d[2];  // f16
  uint8_t qs[64];
};
struct BlockIq2Xs {
  uint8_t d[2];     // f16
  uint8_t qs[64];   // 32 × u16
  uint8_t scales[8];
};
struct BlockIq2S {
  uint8_t d[2];  // f16
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t scales[8];
};
struct BlockIq3Xxs {
  uint8_t d[2];  // f16
  uint8_t qs[96];
};
struct BlockIq3S {
  uint8_t d[2];  // f16
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t signs[32];
  uint8_t scales[4];
};
// IQ1: entries of a grid of -1, 0, 1 shifted by ±1/8; x = d * (2s + 1) * (grid ± 1/8).
struct BlockIq1S {
  uint8_t d[2];  // f16
  uint8_t qs[32];
  uint8_t qh[16];  // 8 × u16
};
struct BlockIq1M {
  uint8_t qs[32];
  uint8_t qh[16];
  uint8_t scales[8];  // 4 × u16: 3-bit group scales; their top nibbles together are d (f16)
};
// Ternary: x = d * (t - 1), t in 0..2 (TQ2_0's 2-bit code 3 gives 2 * d, as ggml decodes it).
struct BlockTq1_0 {
  uint8_t qs[48];  // 5 base-3 digits per byte
  uint8_t qh[4];   // 4 base-3 digits per byte
  uint8_t d[2];    // f16
};
struct BlockTq2_0 {
  uint8_t qs[64];  // 4 2-bit codes per byte
  uint8_t d[2];    // f16
};

// The layouts ggml defines (ggml-common.h), byte for byte.
#define MOE_CHECK_BLOCK(Block, bytes) \
  static_assert(sizeof(Block) == (bytes) && alignof(Block) == 1, #Block " layout")
MOE_CHECK_BLOCK(BlockQ4_0, 18);
MOE_CHECK_BLOCK(BlockQ4_1, 20);
MOE_CHECK_BLOCK(BlockQ5_0, 22);
MOE_CHECK_BLOCK(BlockQ5_1, 24);
MOE_CHECK_BLOCK(BlockQ8_0, 34);
MOE_CHECK_BLOCK(BlockQ8_1, 36);
MOE_CHECK_BLOCK(BlockMxfp4, 17);
MOE_CHECK_BLOCK(BlockQ2_K, 84);
MOE_CHECK_BLOCK(BlockQ3_K, 110);
MOE_CHECK_BLOCK(BlockQ4_K, 144);
MOE_CHECK_BLOCK(BlockQ5_K, 176);
MOE_CHECK_BLOCK(BlockQ6_K, 210);
MOE_CHECK_BLOCK(BlockQ8_K, 292);
MOE_CHECK_BLOCK(BlockIq4Nl, 18);
MOE_CHECK_BLOCK(BlockIq4Xs, 136);
MOE_CHECK_BLOCK(BlockIq2Xxs, 66);
MOE_CHECK_BLOCK(BlockIq2Xs, 74);
MOE_CHECK_BLOCK(BlockIq2S, 82);
MOE_CHECK_BLOCK(BlockIq3Xxs, 98);
MOE_CHECK_BLOCK(BlockIq3S, 110);
MOE_CHECK_BLOCK(BlockIq1S, 50);
MOE_CHECK_BLOCK(BlockIq1M, 56);
MOE_CHECK_BLOCK(BlockTq1_0, 54);
MOE_CHECK_BLOCK(BlockTq2_0, 66);
#undef MOE_CHECK_BLOCK

static_assert(offsetof(BlockQ4_0, qs) == 2);
static_assert(offsetof(BlockQ4_1, m) == 2 && offsetof(BlockQ4_1, qs) == 4);
static_assert(offsetof(BlockQ5_0, qh) == 2 && offsetof(BlockQ5_0, qs) == 6);
static_assert(offsetof(BlockQ5_1, m) == 2 && offsetof(BlockQ5_1, qh) == 4 &&
              offsetof(BlockQ5_1, qs) == 8);
static_assert(offsetof(BlockQ8_0, qs) == 2);
static_assert(offsetof(BlockQ8_1, s) == 2 && offsetof(BlockQ8_1, qs) == 4);
static_assert(offsetof(BlockMxfp4, qs) == 1);
static_assert(offsetof(BlockQ2_K, qs) == 16 && offsetof(BlockQ2_K, d) == 80 &&
              offsetof(BlockQ2_K, dmin) == 82);
static_assert(offsetof(BlockQ3_K, qs) == 32 && offsetof(BlockQ3_K, scales) == 96 &&
              offsetof(BlockQ3_K, d) == 108);
static_assert(offsetof(BlockQ4_K, dmin) == 2 && offsetof(BlockQ4_K, scales) == 4 &&
              offsetof(BlockQ4_K, qs) == 16);
static_assert(offsetof(BlockQ5_K, dmin) == 2 && offsetof(BlockQ5_K, scales) == 4 &&
              offsetof(BlockQ5_K, qh) == 16 && offsetof(BlockQ5_K, qs) == 48);
static_assert(offsetof(BlockQ6_K, qh) == 128 && offsetof(BlockQ6_K, scales) == 192 &&
              offsetof(BlockQ6_K, d) == 208);
static_assert(offsetof(BlockQ8_K, qs) == 4 && offsetof(BlockQ8_K, bsums) == 260);
static_assert(offsetof(BlockIq4Xs, scales_l) == 4 && offsetof(BlockIq4Xs, qs) == 8);
static_assert(offsetof(BlockIq2Xs, scales) == 66);
static_assert(offsetof(BlockIq2S, qh) == 66 && offsetof(BlockIq2S, scales) == 74);
static_assert(offsetof(BlockIq3S, qh) == 66 && offsetof(BlockIq3S, signs) == 74 &&
              offsetof(BlockIq3S, scales) == 106);
static_assert(offsetof(BlockIq1S, qh) == 34);
static_assert(offsetof(BlockIq1M, qh) == 32 && offsetof(BlockIq1M, scales) == 48);
static_assert(offsetof(BlockTq1_0, qh) == 48 && offsetof(BlockTq1_0, d) == 52);
static_assert(offsetof(BlockTq2_0, d) == 64);

// The packed group scales. Always inlined for the same reason as moe/little_endian.hpp's loads.

struct ScaleAndMin {
  int scale;
  int min;
};

// Q4_K / Q5_K group g (0..7): 6-bit scale and min from the 12 bytes of `scales`. Group g < 4:
// scale = s[g] & 63, min = s[g + 4] & 63. Group g >= 4: the low 4 bits are in s[g + 4] (scale:
// low nibble, min: high nibble), the high 2 bits are the top bits of s[g - 4] (scale) and s[g]
// (min).
[[gnu::always_inline]] inline ScaleAndMin k_quant_scale_and_min(const uint8_t* s, int group) {
  if (group < 4) return {s[group] & 63, s[group + 4] & 63};
  return {(s[group + 4] & 0xf) | ((s[group - 4] >> 6) << 4),
          (s[group + 4] >> 4) | ((s[group] >> 6) << 4)};
}

// Q3_K group g (0..15): the signed 6-bit scale (stored + 32) from the 12 bytes of `scales`: low
// 4 bits in s[g] (g < 8) or the high nibble of s[g - 8]; high 2 bits at bits 2 (g / 4) of
// s[8 + g % 4].
[[gnu::always_inline]] inline int q3_k_scale(const uint8_t* s, int group) {
  const int low = group < 8 ? (s[group] & 0xf) : (s[group - 8] >> 4);
  const int high = (s[8 + group % 4] >> (2 * (group / 4))) & 3;
  return (low | high << 4) - 32;
}

// The codes of a K-quant super-block in element order, before the group scales (element i
// belongs to group i / 16, or i / 32 for Q4_K and Q5_K): Q2_K 0..3, Q3_K -4..3, Q4_K 0..15,
// Q5_K 0..31, Q6_K -32..31. The element orders are described in core/gguf/block_codes.cpp.
void k_quant_codes(const BlockQ2_K& block, int8_t* codes);
void k_quant_codes(const BlockQ3_K& block, int8_t* codes);
void k_quant_codes(const BlockQ4_K& block, int8_t* codes);
void k_quant_codes(const BlockQ5_K& block, int8_t* codes);
void k_quant_codes(const BlockQ6_K& block, int8_t* codes);

// An IQ / TQ super-block (IQ4_XS, IQ3_XXS, IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M, TQ1_0,
// TQ2_0) as integers: element i is d * scales[i / 16] * codes[i], where d is the block's f16
// scale divided by the type's power-of-two denominator (IQ2: 8, IQ3_XXS: 4, IQ1: 8, with the
// ±1/8 shift folded into codes as 8 * grid ± 1). Every such product is exact in f32 (at most
// 24 significant bits), so decoding through these integers gives ggml's values bit for bit.
struct SuperBlockCodes {
  int8_t codes[256];
  int16_t scales[16];
  float d;
};
using SuperBlockDecoder = void (*)(const uint8_t* block, SuperBlockCodes& out);
// The decoder of `type`; nullptr for the other types.
SuperBlockDecoder super_block_decoder(GgmlType type);

}  // namespace moe
