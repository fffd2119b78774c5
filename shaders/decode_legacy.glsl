// Decoders of the 32-element block types (included by matmul.comp): Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1, IQ4_NL and MXFP4. Except Q8_0 (8 elements per unit) a unit is one block. In the 4-bit
// types byte j of qs holds element j (low nibble) and j + 16 (high nibble); the fifth bit of
// element i is bit i of qh.

#if WEIGHT_TYPE == TYPE_Q8_0
// An f16 scale and 32 int8; this unit is the quarter (unit & 3) of block unit / 4.
void decode_q8_0(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + (unit >> 2) * Q8_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + Q8_0_D));
  uint first = block + Q8_0_QS + 8u * (unit & 3u);
  for (uint i = 0u; i < 2u; ++i) w[i] = d * signed_bytes_of(LOAD_U32(W, first + 4u * i));
}
#define LOAD_UNIT decode_q8_0
#endif

#if WEIGHT_TYPE == TYPE_Q4_0
// x = d * (q - 8).
void decode_q4_0(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + unit * Q4_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + Q4_0_D));
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + Q4_0_QS + 4u * i);
    w[i] = d * (vec4(low_nibbles(q)) - 8.0);
    w[i + 4u] = d * (vec4(low_nibbles(q >> 4)) - 8.0);
  }
}
#define LOAD_UNIT decode_q4_0
#endif

#if WEIGHT_TYPE == TYPE_Q5_0
// x = d * (q - 16), q 5-bit.
void decode_q5_0(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + unit * Q5_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + Q5_0_D));
  uint qh = LOAD_U32(W, block + Q5_0_QH);
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + Q5_0_QS + 4u * i);
    w[i] = d * (vec4(low_nibbles(q) | bits4(qh, 4u * i) << 4) - 16.0);
    w[i + 4u] = d * (vec4(low_nibbles(q >> 4) | bits4(qh, 16u + 4u * i) << 4) - 16.0);
  }
}
#define LOAD_UNIT decode_q5_0
#endif

#if WEIGHT_TYPE == TYPE_Q4_1 || WEIGHT_TYPE == TYPE_Q5_1
// x = d * q + m: Q4_1's q 4-bit, Q5_1's 5-bit.
void decode_q4_1_q5_1(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
#if WEIGHT_TYPE == TYPE_Q4_1
  uint block = row + unit * Q4_1_BYTES;
  vec2 dm = vec2(half_to_float(LOAD_U16(W, block + Q4_1_D)),
                 half_to_float(LOAD_U16(W, block + Q4_1_M)));
  uint qs = block + Q4_1_QS, qh = 0u;
#else
  uint block = row + unit * Q5_1_BYTES;
  vec2 dm = vec2(half_to_float(LOAD_U16(W, block + Q5_1_D)),
                 half_to_float(LOAD_U16(W, block + Q5_1_M)));
  uint qs = block + Q5_1_QS, qh = LOAD_U32(W, block + Q5_1_QH);
#endif
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, qs + 4u * i);
    w[i] = scale_add(vec4(low_nibbles(q) | bits4(qh, 4u * i) << 4), dm.x, dm.y);
    w[i + 4u] = scale_add(vec4(low_nibbles(q >> 4) | bits4(qh, 16u + 4u * i) << 4), dm.x, dm.y);
  }
}
#define LOAD_UNIT decode_q4_1_q5_1
#endif

#if WEIGHT_TYPE == TYPE_IQ4_NL
// x = d * kIq4NlValues[q].
void decode_iq4_nl(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + unit * IQ4_NL_BYTES;
  float d = half_to_float(LOAD_U16(W, block + IQ4_NL_D));
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + IQ4_NL_QS + 4u * i);
    w[i] = d * iq4_values(low_nibbles(q));
    w[i + 4u] = d * iq4_values(low_nibbles(q >> 4));
  }
}
#define LOAD_UNIT decode_iq4_nl
#endif

#if WEIGHT_TYPE == TYPE_MXFP4
// x = 2^(e - 128) * doubled E2M1 value (exact: a power of two times a small integer). Blocks
// are 17 bytes, so they start at any byte.
const int kMxfp4DoubledValues[16] = MXFP4_DOUBLED_VALUES;
void decode_mxfp4(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + unit * MXFP4_BYTES;
  uint e = LOAD_U8(W, block + MXFP4_E);
  // 2^(e - 128) as f32 bits (e < 2: the subnormals 2^-128 and 2^-127).
  float scale = uintBitsToFloat(e < 2u ? 0x00200000u << e : (e - 1u) << 23);
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + MXFP4_QS + 4u * i);
    uvec4 lo = low_nibbles(q), hi = low_nibbles(q >> 4);
    w[i] = scale * vec4(kMxfp4DoubledValues[lo.x], kMxfp4DoubledValues[lo.y],
                        kMxfp4DoubledValues[lo.z], kMxfp4DoubledValues[lo.w]);
    w[i + 4u] = scale * vec4(kMxfp4DoubledValues[hi.x], kMxfp4DoubledValues[hi.y],
                             kMxfp4DoubledValues[hi.z], kMxfp4DoubledValues[hi.w]);
  }
}
#define LOAD_UNIT decode_mxfp4
#endif
