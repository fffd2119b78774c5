// Decoders of the K-quants (included by matmul.comp): 256-element super-blocks, a unit is
// elements 32u .. 32u + 31 of one (u = unit & 7). Element orders: core/gguf/block_codes.cpp.

#if WEIGHT_TYPE == TYPE_Q2_K || WEIGHT_TYPE == TYPE_Q3_K
// Q2_K and Q3_K: in half h = u / 4, element 32s + k (s = u % 4) has its low 2 bits at bits 2s of
// qs[32h + k]; Q3_K's third bit is bit u of hmask[k] (clear: minus 4). Groups of 16.
void decode_q2_k_q3_k(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint u = unit & 7u;
#if WEIGHT_TYPE == TYPE_Q2_K
  // x = d * scale * q - dmin * min: a 4-bit scale (low nibble) and min per group in scales[g].
  uint block = row + (unit >> 3) * Q2_K_BYTES;
  uint qs = block + Q2_K_QS + 32u * (u >> 2);
  vec2 dm = unpackHalf2x16(LOAD_U32(W, block + Q2_K_D));  // d, dmin
  uint codes = LOAD_U16(W, block + Q2_K_SCALES + 2u * u);   // groups 2u and 2u + 1
  vec2 scale = dm.x * vec2(codes & 15u, (codes >> 8) & 15u);
  vec2 minimum = dm.y * vec2((codes >> 4) & 15u, codes >> 12);
#else
  // x = d * scale * q, signed 6-bit scales (moe/gguf_blocks.hpp's q3_k_scale).
  uint block = row + (unit >> 3) * Q3_K_BYTES;
  uint qs = block + Q3_K_QS + 32u * (u >> 2);
  float d = half_to_float(LOAD_U16(W, block + Q3_K_D));
  vec2 scale, minimum = vec2(0.0);
  for (uint part = 0u; part < 2u; ++part) {
    uint g = 2u * u + part;
    uint low = (LOAD_U8(W, block + Q3_K_SCALES + (g & 7u)) >> (4u * (g >> 3))) & 15u;
    uint high = (LOAD_U8(W, block + Q3_K_SCALES + 8u + (g & 3u)) >> (2u * (g >> 2))) & 3u;
    scale[part] = d * float(int(low | high << 4) - 32);
  }
#endif
  uint shift = 2u * (u & 3u);
  for (uint i = 0u; i < 8u; ++i) {
    vec4 q = vec4(bytes_of(LOAD_U32(W, qs + 4u * i) >> shift) & 3u);
#if WEIGHT_TYPE == TYPE_Q3_K
    q += 4.0 * vec4(bit_of_bytes(LOAD_U32(W, block + Q3_K_HMASK + 4u * i), u)) - 4.0;
    w[i] = scale[i >> 2] * q;
#else
    w[i] = scale_add(q, scale[i >> 2], -minimum[i >> 2]);
#endif
  }
}
#define LOAD_UNIT decode_q2_k_q3_k
#endif

#if WEIGHT_TYPE == TYPE_Q4_K || WEIGHT_TYPE == TYPE_Q5_K
// 8 groups of 32 (one group is one unit); x = d * scale * q - dmin * min with 6-bit scales and
// mins; q 4-bit, Q5_K's fifth bit of element 32g + k is bit g of qh[k].
void decode_q4_k_q5_k(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
#if WEIGHT_TYPE == TYPE_Q4_K
  uint block = row + (unit >> 3) * Q4_K_BYTES;
  uint qs = block + Q4_K_QS;
#else
  uint block = row + (unit >> 3) * Q5_K_BYTES;
  uint qs = block + Q5_K_QS;
#endif
  uint group = unit & 7u;
  vec2 dm = unpackHalf2x16(LOAD_U32(W, block + Q4_K_D));  // d, dmin (Q5_K's are where Q4_K's are)
  // 6-bit scale and min of the group, packed in the 12 scale bytes.
  uint scales = block + Q4_K_SCALES;
  uint sc, mn;
  if (group < 4u) {
    sc = (LOAD_U32(W, scales) >> (8u * group)) & 63u;
    mn = (LOAD_U32(W, scales + 4u) >> (8u * group)) & 63u;
  } else {
    uint low_bits = (LOAD_U32(W, scales + 8u) >> (8u * (group - 4u))) & 255u;
    uint sc_high = (LOAD_U32(W, scales) >> (8u * (group - 4u) + 6u)) & 3u;
    uint mn_high = (LOAD_U32(W, scales + 4u) >> (8u * (group - 4u) + 6u)) & 3u;
    sc = (low_bits & 15u) | (sc_high << 4);
    mn = (low_bits >> 4) | (mn_high << 4);
  }
  float scale = dm.x * float(sc), minimum = dm.y * float(mn);
  uint shift = (group & 1u) * 4u;
  uint qbase = qs + 32u * (group >> 1);
  for (uint i = 0u; i < 8u; ++i) {
    vec4 v = vec4(low_nibbles(LOAD_U32(W, qbase + 4u * i) >> shift));
#if WEIGHT_TYPE == TYPE_Q5_K
    v += 16.0 * vec4(bit_of_bytes(LOAD_U32(W, block + Q5_K_QH + 4u * i), group));
#endif
    w[i] = scale_add(v, scale, -minimum);
  }
}
#define LOAD_UNIT decode_q4_k_q5_k
#endif

#if WEIGHT_TYPE == TYPE_Q6_K
// Super-blocks of ql[128], qh[64], int8 scales[16], f16 d; x = d * scale * (q - 32). Unit u is
// elements 128h + 32j + k with h = u / 4, j = u % 4, k = 0..31.
void decode_q6_k(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + (unit >> 3) * Q6_K_BYTES;
  uint u = unit & 7u, h = u >> 2, j = u & 3u;
  float d = half_to_float(LOAD_U16(W, block + Q6_K_D));
  uint scales = LOAD_U16(W, block + Q6_K_SCALES + 8u * h + 2u * j);
  float scale_lo = d * float(bitfieldExtract(int(scales), 0, 8));
  float scale_hi = d * float(bitfieldExtract(int(scales), 8, 8));
  uint ql = block + Q6_K_QL + 64u * h + 32u * (j & 1u);
  uint lo_shift = (j >> 1) * 4u;
  uint qh = block + Q6_K_QH + 32u * h;
  for (uint i = 0u; i < 8u; ++i) {
    uvec4 lo = low_nibbles(LOAD_U32(W, ql + 4u * i) >> lo_shift);
    uvec4 hi = bytes_of(LOAD_U32(W, qh + 4u * i) >> (2u * j)) & 3u;
    w[i] = (i < 4u ? scale_lo : scale_hi) * (vec4(lo | hi << 4) - 32.0);
  }
}
#define LOAD_UNIT decode_q6_k
#endif

#if WEIGHT_TYPE == TYPE_Q8_K
// An f32 d, 256 int8 and their sums per 16 (unused here); x = d * q.
void decode_q8_k(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint block = row + (unit >> 3) * Q8_K_BYTES;
  float d = uintBitsToFloat(LOAD_U32(W, block + Q8_K_D));
  uint qs = block + Q8_K_QS + 32u * (unit & 7u);
  for (uint i = 0u; i < 8u; ++i) w[i] = d * signed_bytes_of(LOAD_U32(W, qs + 4u * i));
}
#define LOAD_UNIT decode_q8_k
#endif
