// Decoders of the ternary types (included by matmul.comp): 256-element super-blocks with one f16
// d, x = d * (t - 1) for a digit t in 0..2 (TQ2_0's 2-bit code 3 gives 2d, as the CPU decodes
// it). A unit is elements 32u .. 32u + 31 (u = unit & 7) of one.

#if WEIGHT_TYPE == TYPE_TQ2_0
// Element 128h + 32s + k (h = u / 4, s = u % 4) is bits 2s of qs[32h + k] (Q2_K's order).
void decode_tq2_0(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint u = unit & 7u;
  uint block = row + (unit >> 3) * TQ2_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + TQ2_0_D));
  uint qs = block + TQ2_0_QS + 32u * (u >> 2);
  for (uint i = 0u; i < 8u; ++i)
    w[i] = d * (vec4(bytes_of(LOAD_U32(W, qs + 4u * i) >> (2u * (u & 3u))) & 3u) - 1.0);
}
#define LOAD_UNIT decode_tq2_0
#endif

#if WEIGHT_TYPE == TYPE_TQ1_0
// Bytes hold base-3 digits as a fraction scaled to 256: digit n of a byte is the integer part
// of 3 * (byte * 3^n mod 256) / 256. Elements 0..159 are digit e / 32 of qs[e % 32],
// 160..239 digit (e - 160) / 16 of qs[32 + e % 16], 240..255 digit (e - 240) / 4 of
// qh[e % 4].
const uint kPowersOf3[5] = uint[5](1u, 3u, 9u, 27u, 81u);
void decode_tq1_0(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + (unit >> 3) * TQ1_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + TQ1_0_D));
  for (uint i = 0u; i < 8u; ++i) {
    uvec4 digits;
    for (uint j = 0u; j < 4u; ++j) {
      uint e = 32u * (unit & 7u) + 4u * i + j;
      uint at = e < 160u ? TQ1_0_QS + e % 32u : e < 240u ? TQ1_0_QS + 32u + e % 16u
                                                         : TQ1_0_QH + e % 4u;
      uint n = e < 160u ? e / 32u : e < 240u ? (e - 160u) / 16u : (e - 240u) / 4u;
      digits[j] = (((LOAD_U8(W, block + at) * kPowersOf3[n]) & 255u) * 3u) >> 8;
    }
    w[i] = d * (vec4(digits) - 1.0);
  }
}
#define LOAD_UNIT decode_tq1_0
#endif
