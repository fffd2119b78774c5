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
// The K-quants' element orders: k_quant_codes below (core/gguf/block_codes.cpp).
#include <cstddef>
#include <cstdint>

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

}  // namespace moe
