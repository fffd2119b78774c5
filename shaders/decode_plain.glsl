// Decoders of the plain (unblocked) types, floats and integers (included by matmul.comp): 8
// elements per unit.

#if WEIGHT_TYPE == TYPE_F32 || WEIGHT_TYPE == TYPE_I32
// Words at..at + 3 of the weights.
uvec4 words4(uint at) { return uvec4(W[at], W[at + 1u], W[at + 2u], W[at + 3u]); }
#endif

#if WEIGHT_TYPE == TYPE_F32
void decode_f32(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 8u;
  for (uint i = 0u; i < 2u; ++i) w[i] = uintBitsToFloat(words4(base + 4u * i));
}
#define LOAD_UNIT decode_f32
#endif

#if WEIGHT_TYPE == TYPE_F16
void decode_f16(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 4u;
  for (uint i = 0u; i < 2u; ++i)
    w[i] = vec4(unpackHalf2x16(W[base + 2u * i]), unpackHalf2x16(W[base + 2u * i + 1u]));
}
#define LOAD_UNIT decode_f16
#endif

#if WEIGHT_TYPE == TYPE_BF16
void decode_bf16(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 4u;
  for (uint i = 0u; i < 2u; ++i) {
    uint a = W[base + 2u * i], b = W[base + 2u * i + 1u];
    w[i] = uintBitsToFloat(uvec4(a << 16, a & 0xffff0000u, b << 16, b & 0xffff0000u));
  }
}
#define LOAD_UNIT decode_bf16
#endif

#if WEIGHT_TYPE == TYPE_F64
// Rounded to f32 by the driver's conversion (to nearest even, as the CPU's).
void decode_f64(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 16u;
  for (uint i = 0u; i < 8u; ++i) {
    uint at = base + 2u * i;
    w[i >> 2][i & 3u] = float(packDouble2x32(uvec2(W[at], W[at + 1u])));
  }
}
#define LOAD_UNIT decode_f64
#endif

#if WEIGHT_TYPE == TYPE_I8
void decode_i8(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 2u;
  for (uint i = 0u; i < 2u; ++i) w[i] = signed_bytes_of(W[base + i]);
}
#define LOAD_UNIT decode_i8
#endif

#if WEIGHT_TYPE == TYPE_I16
void decode_i16(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 4u;
  for (uint i = 0u; i < 2u; ++i) {
    int a = int(W[base + 2u * i]), b = int(W[base + 2u * i + 1u]);
    w[i] = vec4(bitfieldExtract(a, 0, 16), bitfieldExtract(a, 16, 16), bitfieldExtract(b, 0, 16),
                bitfieldExtract(b, 16, 16));
  }
}
#define LOAD_UNIT decode_i16
#endif

#if WEIGHT_TYPE == TYPE_I32
// Values past 2^24 are rounded to f32 by the conversion (to nearest even, as the CPU's).
void decode_i32(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
  uint base = (row >> 2) + unit * 8u;
  for (uint i = 0u; i < 2u; ++i) w[i] = vec4(ivec4(words4(base + 4u * i)));
}
#define LOAD_UNIT decode_i32
#endif
