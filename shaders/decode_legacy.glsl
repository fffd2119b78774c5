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

#if WEIGHT_TYPE == TYPE_Q4_0 || WEIGHT_TYPE == TYPE_IQ4_NL || WEIGHT_TYPE == TYPE_MXFP4
// A scale and 16 bytes of 4-bit codes: x = d * (q - 8) (Q4_0), d * kIq4NlValues[q] (IQ4_NL) or
// 2^(e - 128) * the doubled E2M1 value of q (MXFP4: exact, a power of two times a small
// integer; its 17-byte blocks start at any byte).
#if WEIGHT_TYPE == TYPE_Q4_0
#define NIBBLE_BLOCK_BYTES Q4_0_BYTES
#define NIBBLE_BLOCK_QS Q4_0_QS
vec4 nibble_values(uvec4 q) { return vec4(q) - 8.0; }
#elif WEIGHT_TYPE == TYPE_IQ4_NL
#define NIBBLE_BLOCK_BYTES IQ4_NL_BYTES
#define NIBBLE_BLOCK_QS IQ4_NL_QS
vec4 nibble_values(uvec4 q) { return iq4_values(q); }
#else
#define NIBBLE_BLOCK_BYTES MXFP4_BYTES
#define NIBBLE_BLOCK_QS MXFP4_QS
const int kMxfp4DoubledValues[16] = MXFP4_DOUBLED_VALUES;
vec4 nibble_values(uvec4 q) {
  return vec4(kMxfp4DoubledValues[q.x], kMxfp4DoubledValues[q.y], kMxfp4DoubledValues[q.z],
              kMxfp4DoubledValues[q.w]);
}
#endif
void decode_nibble_block(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + unit * NIBBLE_BLOCK_BYTES;
#if WEIGHT_TYPE == TYPE_MXFP4
  uint e = LOAD_U8(W, block + MXFP4_E);
  // 2^(e - 128) as f32 bits (e < 2: the subnormals 2^-128 and 2^-127).
  float d = uintBitsToFloat(e < 2u ? 0x00200000u << e : (e - 1u) << 23);
#elif WEIGHT_TYPE == TYPE_Q4_0
  float d = half_to_float(LOAD_U16(W, block + Q4_0_D));
#else
  float d = half_to_float(LOAD_U16(W, block + IQ4_NL_D));
#endif
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + NIBBLE_BLOCK_QS + 4u * i);
    w[i] = d * nibble_values(low_nibbles(q));
    w[i + 4u] = d * nibble_values(low_nibbles(q >> 4));
  }
}
#define LOAD_UNIT decode_nibble_block
#endif
