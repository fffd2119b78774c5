// Decoders of the IQ types with 256-element super-blocks (included by matmul.comp): IQ4_XS and
// the grid types. A unit is group g = unit & 7 (elements 32g .. 32g + 31) of one. Each grid
// type's 8 (IQ3: 4) elements are one entry of a grid of magnitudes (IQ1: -1, 0, 1) with sign
// bits; group scales s give x = d * (2s + 1) * code, d the f16 scale divided by the type's power
// of two (IQ2: 8, IQ3_XXS: 4, IQ1: 8): moe/gguf_blocks.hpp and core/gguf/iq_codes.cpp. The grids
// are the CPU's own tables (moe/iq_grids.hpp), in one buffer at word offsets IQ2_XXS_GRID, ...:
// a 64-bit entry is two words, low first.

#if WEIGHT_TYPE == TYPE_IQ2_XXS || WEIGHT_TYPE == TYPE_IQ2_XS || WEIGHT_TYPE == TYPE_IQ2_S || \
    WEIGHT_TYPE == TYPE_IQ3_XXS || WEIGHT_TYPE == TYPE_IQ3_S || WEIGHT_TYPE == TYPE_IQ1_S || \
    WEIGHT_TYPE == TYPE_IQ1_M
layout(std430, binding = IQ_GRID_BINDING) readonly buffer IqGrids { uint iq_grid[]; };

// 4 elements: the bytes of a grid word, negated where bits 0..3 of `signs` are set.
vec4 signed_grid4(uint word, uint signs) {
  vec4 magnitude = vec4(bytes_of(word));
  return mix(magnitude, -magnitude, bvec4(bits4(signs, 0u)));
}

// 8 elements (w[at], w[at + 1]): 64-bit grid entry `entry` of the grid at word `grid`, signed
// by the 8 bits of `signs`, times `scale`.
void put_grid8(inout vec4 w[UNIT_VEC4], uint at, uint grid, uint entry, uint signs, float scale) {
  w[at] = scale * signed_grid4(iq_grid[grid + 2u * entry], signs);
  w[at + 1u] = scale * signed_grid4(iq_grid[grid + 2u * entry + 1u], signs >> 4);
}

// IQ3: two 32-bit grid entries of 4 elements each.
void put_grid4x2(inout vec4 w[UNIT_VEC4], uint at, uint grid, uint first, uint second,
                 uint signs, float scale) {
  w[at] = scale * signed_grid4(iq_grid[grid + first], signs);
  w[at + 1u] = scale * signed_grid4(iq_grid[grid + second], signs >> 4);
}

// 7 stored sign bits and the eighth, which makes the number of minus signs even.
uint with_parity_sign(uint seven_bits) {
  uint bits = seven_bits & 127u;
  return bits | (uint(bitCount(bits)) & 1u) << 7;
}
#endif

#if WEIGHT_TYPE == TYPE_IQ2_XXS || WEIGHT_TYPE == TYPE_IQ3_XXS
// Group g's last (IQ2_XXS: 8 bytes of qs, IQ3_XXS: qs[64 + 4g ..]) u32: the signs of its 4
// sub-groups in bits 7l .. 7l + 6 and the scale s in the top 4 bits. IQ2_XXS's 4 grid indices
// are the group's first 4 bytes; IQ3_XXS's 8 are qs[8g .. 8g + 7].
void decode_iq2_xxs_iq3_xxs(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint g = unit & 7u;
#if WEIGHT_TYPE == TYPE_IQ2_XXS
  uint block = row + (unit >> 3) * IQ2_XXS_BYTES;
  uint group = block + IQ2_XXS_QS + 8u * g;
  uint indices = LOAD_U32(W, group), signs_and_scale = LOAD_U32(W, group + 4u);
  float d = half_to_float(LOAD_U16(W, block + IQ2_XXS_D)) * 0.125;
#else
  uint block = row + (unit >> 3) * IQ3_XXS_BYTES;
  uint indices = block + IQ3_XXS_QS + 8u * g;
  uint signs_and_scale = LOAD_U32(W, block + IQ3_XXS_QS + 64u + 4u * g);
  float d = half_to_float(LOAD_U16(W, block + IQ3_XXS_D)) * 0.25;
#endif
  float scale = d * float(2u * (signs_and_scale >> 28) + 1u);
  for (uint l = 0u; l < 4u; ++l) {
    uint signs = with_parity_sign(signs_and_scale >> (7u * l));
#if WEIGHT_TYPE == TYPE_IQ2_XXS
    put_grid8(w, 2u * l, IQ2_XXS_GRID, (indices >> (8u * l)) & 255u, signs, scale);
#else
    uint pair = LOAD_U16(W, indices + 2u * l);
    put_grid4x2(w, 2u * l, IQ3_XXS_GRID, pair & 255u, pair >> 8, signs, scale);
#endif
  }
}
#define LOAD_UNIT decode_iq2_xxs_iq3_xxs
#endif

#if WEIGHT_TYPE == TYPE_IQ2_XS || WEIGHT_TYPE == TYPE_IQ2_S
// Per 16 elements a 4-bit scale (scales[g]: low nibble first). IQ2_XS: per 8 elements a u16
// whose low 9 bits index the grid and top 7 are signs. IQ2_S: per 8 a 10-bit index (low 8 bits
// in qs[0..31], the high 2 of sub-group l at bits 2l of qh[g]) and a sign byte in qs[32..63].
void decode_iq2_xs_iq2_s(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint g = unit & 7u;
#if WEIGHT_TYPE == TYPE_IQ2_XS
  uint block = row + (unit >> 3) * IQ2_XS_BYTES;
  float d = half_to_float(LOAD_U16(W, block + IQ2_XS_D)) * 0.125;
  uint codes = LOAD_U8(W, block + IQ2_XS_SCALES + g);
#else
  uint block = row + (unit >> 3) * IQ2_S_BYTES;
  float d = half_to_float(LOAD_U16(W, block + IQ2_S_D)) * 0.125;
  uint codes = LOAD_U8(W, block + IQ2_S_SCALES + g);
  uint qh = LOAD_U8(W, block + IQ2_S_QH + g);
#endif
  vec2 scale = d * vec2(2u * (codes & 15u) + 1u, 2u * (codes >> 4) + 1u);
  for (uint l = 0u; l < 4u; ++l) {
#if WEIGHT_TYPE == TYPE_IQ2_XS
    uint index_and_signs = LOAD_U16(W, block + IQ2_XS_QS + 2u * (4u * g + l));
    put_grid8(w, 2u * l, IQ2_XS_GRID, index_and_signs & 511u,
              with_parity_sign(index_and_signs >> 9), scale[l >> 1]);
#else
    uint index = LOAD_U8(W, block + IQ2_S_QS + 4u * g + l) | ((qh >> (2u * l)) & 3u) << 8;
    uint signs = LOAD_U8(W, block + IQ2_S_QS + 32u + 4u * g + l);
    put_grid8(w, 2u * l, IQ2_S_GRID, index, signs, scale[l >> 1]);
#endif
  }
}
#define LOAD_UNIT decode_iq2_xs_iq2_s
#endif

#if WEIGHT_TYPE == TYPE_IQ3_S
// Per 4 elements a 9-bit index (low 8 bits in qs; the ninth of index k of group g is bit k of
// qh[g]), per 8 a sign byte, per group a 4-bit scale (nibble g % 2 of scales[g / 2]);
// x = d * (2s + 1) * grid * sign.
void decode_iq3_s(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint g = unit & 7u;
  uint block = row + (unit >> 3) * IQ3_S_BYTES;
  float d = half_to_float(LOAD_U16(W, block + IQ3_S_D));
  float scale = d * float(2u * ((LOAD_U8(W, block + IQ3_S_SCALES + (g >> 1)) >> (4u * (g & 1u))) &
                                15u) + 1u);
  uint qh = LOAD_U8(W, block + IQ3_S_QH + g);
  uint qs = block + IQ3_S_QS + 8u * g;
  for (uint l = 0u; l < 4u; ++l) {
    uint k = 2u * l;
    uint first = LOAD_U8(W, qs + k) | ((qh >> k) & 1u) << 8;
    uint second = LOAD_U8(W, qs + k + 1u) | ((qh >> (k + 1u)) & 1u) << 8;
    uint signs = LOAD_U8(W, block + IQ3_S_SIGNS + 4u * g + l);
    put_grid4x2(w, 2u * l, IQ3_S_GRID, first, second, signs, scale);
  }
}
#define LOAD_UNIT decode_iq3_s
#endif

#if WEIGHT_TYPE == TYPE_IQ1_S || WEIGHT_TYPE == TYPE_IQ1_M
// 8 elements (w[at], w[at + 1]): IQ1 grid entry `entry` (-1, 0, 1) times 8, shifted by -1 if
// `minus` else +1 (the ±1/8 shift, with d divided by 8), times `scale`.
void put_iq1_8(inout vec4 w[UNIT_VEC4], uint at, uint entry, bool minus, float scale) {
  float shift = minus ? -1.0 : 1.0;
  w[at] = scale * (8.0 * signed_bytes_of(iq_grid[IQ1_S_GRID + 2u * entry]) + shift);
  w[at + 1u] = scale * (8.0 * signed_bytes_of(iq_grid[IQ1_S_GRID + 2u * entry + 1u]) + shift);
}
#endif

#if WEIGHT_TYPE == TYPE_IQ1_S
// Per group a u16 qh: bits 3l .. 3l + 2 are the high bits of sub-group l's 11-bit index (low 8
// bits in qs), bits 12..14 the scale s, bit 15 the shift's sign.
void decode_iq1_s(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint g = unit & 7u;
  uint block = row + (unit >> 3) * IQ1_S_BYTES;
  float d = half_to_float(LOAD_U16(W, block + IQ1_S_D)) * 0.125;
  uint high = LOAD_U16(W, block + IQ1_S_QH + 2u * g);
  float scale = d * float(2u * ((high >> 12) & 7u) + 1u);
  for (uint l = 0u; l < 4u; ++l) {
    uint index = LOAD_U8(W, block + IQ1_S_QS + 4u * g + l) | ((high >> (3u * l)) & 7u) << 8;
    put_iq1_8(w, 2u * l, index, (high & 0x8000u) != 0u, scale);
  }
}
#define LOAD_UNIT decode_iq1_s
#endif

#if WEIGHT_TYPE == TYPE_IQ1_M
// Per 8 elements an 11-bit index: low 8 bits in qs, the high 3 in a nibble of qh (sub-groups 2m
// and 2m + 1 of group g: low and high nibble of qh[2g + m]) whose bit 3 is the shift's sign.
// Per 16 a 3-bit scale: bits 6(g % 2) + 3h of the u16 scales[g / 2]. The f16 d is the top
// nibbles of the four u16 scales, first word lowest.
void decode_iq1_m(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint g = unit & 7u;
  uint block = row + (unit >> 3) * IQ1_M_BYTES;
  uint scales01 = LOAD_U32(W, block + IQ1_M_SCALES);
  uint scales23 = LOAD_U32(W, block + IQ1_M_SCALES + 4u);
  uint d_bits = (scales01 >> 12 & 0x000fu) | (scales01 >> 24 & 0x00f0u) |
                (scales23 >> 4 & 0x0f00u) | (scales23 >> 16 & 0xf000u);
  float d = half_to_float(d_bits) * 0.125;
  uint word = (g < 4u ? scales01 : scales23) >> (16u * ((g >> 1) & 1u));
  uint shift = 6u * (g & 1u);
  vec2 scale = d * vec2(2u * ((word >> shift) & 7u) + 1u, 2u * ((word >> (shift + 3u)) & 7u) + 1u);
  for (uint l = 0u; l < 4u; ++l) {
    uint nibble = (LOAD_U8(W, block + IQ1_M_QH + 2u * g + (l >> 1)) >> (4u * (l & 1u))) & 15u;
    uint index = LOAD_U8(W, block + IQ1_M_QS + 4u * g + l) | (nibble & 7u) << 8;
    put_iq1_8(w, 2u * l, index, (nibble & 8u) != 0u, scale[l >> 1]);
  }
}
#define LOAD_UNIT decode_iq1_m
#endif

#if WEIGHT_TYPE == TYPE_IQ4_XS
// Group g's 6-bit scale (stored + 32): low 4 bits in nibble g % 2 of scales_l[g / 2], high 2 at
// bits 2g of scales_h; its indices into kIq4NlValues in qs[16g ..], in IQ4_NL's nibble order.
void decode_iq4_xs(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint g = unit & 7u;
  uint block = row + (unit >> 3) * IQ4_XS_BYTES;
  float d = half_to_float(LOAD_U16(W, block + IQ4_XS_D));
  uint low = (LOAD_U8(W, block + IQ4_XS_SCALES_L + (g >> 1)) >> (4u * (g & 1u))) & 15u;
  uint high = (LOAD_U16(W, block + IQ4_XS_SCALES_H) >> (2u * g)) & 3u;
  float scale = d * float(int(low | high << 4) - 32);
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + IQ4_XS_QS + 16u * g + 4u * i);
    w[i] = scale * iq4_values(low_nibbles(q));
    w[i + 4u] = scale * iq4_values(low_nibbles(q >> 4));
  }
}
#define LOAD_UNIT decode_iq4_xs
#endif
