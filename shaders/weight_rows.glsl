// Weight rows in their stored type (WEIGHT_TYPE, one of the TYPE_* defines), read by the matmul
// shaders (matmul.comp, matmul_combine.comp): the decoders, and a lane's share of the dot
// products of one row with some input rows. The including shader declares W[] (the weights'
// words, binding 0), X[] (the input rows as vec4s, binding 1), TEAM (the lanes that share a row)
// and TILE (the most input rows read per weight unit), and the uniform u_cols; optionally
// INPUT_VEC4.
// Block sizes and field offsets (Q4_K_BYTES, Q4_K_QS, ...) are defined by the GL backend from
// moe/gguf_blocks.hpp (gl_weight_formats.cpp). The decoders live in one file per type family
// (decode_*.glsl).

// Elements per unit: 8 for the plain types and Q8_0, so that the lanes of a team read adjacent
// 8-64 byte pieces (coalesced); 32 for the types whose element order spans a whole block.
#if WEIGHT_TYPE == TYPE_F32 || WEIGHT_TYPE == TYPE_F16 || WEIGHT_TYPE == TYPE_BF16 || \
    WEIGHT_TYPE == TYPE_F64 || WEIGHT_TYPE == TYPE_I8 || WEIGHT_TYPE == TYPE_I16 ||     \
    WEIGHT_TYPE == TYPE_I32 || WEIGHT_TYPE == TYPE_Q8_0
#define UNIT 8u
#else
#define UNIT 32u
#endif
#define UNIT_VEC4 (UNIT / 4u)

// --- Helpers of the decoders -------------------------------------------------------------------

// The 4 bytes of a word, lowest first; as signed bytes.
uvec4 bytes_of(uint word) { return (uvec4(word) >> uvec4(0u, 8u, 16u, 24u)) & 255u; }
vec4 signed_bytes_of(uint word) {
  return vec4(bitfieldExtract(int(word), 0, 8), bitfieldExtract(int(word), 8, 8),
              bitfieldExtract(int(word), 16, 8), bitfieldExtract(int(word), 24, 8));
}
// The low nibbles of the 4 bytes of a word (the high ones: low_nibbles(word >> 4)).
uvec4 low_nibbles(uint word) { return bytes_of(word) & 15u; }
// Bits first .. first + 3 of `bits`, one per element; bit `bit` of each byte of a word.
uvec4 bits4(uint bits, uint first) { return (uvec4(bits >> first) >> uvec4(0u, 1u, 2u, 3u)) & 1u; }
uvec4 bit_of_bytes(uint word, uint bit) { return (bytes_of(word) >> bit) & 1u; }

// v * scale + offset rounded after the product and after the sum, as the CPU's dequantization
// computes it: `precise` forbids fusing them into one multiply-add.
vec4 scale_add(vec4 v, float scale, float offset) {
  precise vec4 result = v * scale + offset;
  return result;
}

// IQ4_NL's and IQ4_XS's 16 values (moe/gguf_blocks.hpp), indexed by 4-bit codes.
const int kIq4NlValues[16] = IQ4_NL_VALUES;
vec4 iq4_values(uvec4 codes) {
  return vec4(kIq4NlValues[codes.x], kIq4NlValues[codes.y], kIq4NlValues[codes.z],
              kIq4NlValues[codes.w]);
}

// --- One decoder per type: LOAD_UNIT(row, unit, w) dequantizes elements [UNIT * unit,
// UNIT * unit + UNIT) of the row starting at byte `row` into w, to the floats the CPU's
// dequantize_row gives (core/gguf/quants.cpp). Each file defines only WEIGHT_TYPE's.
#include "decode_plain.glsl"
#include "decode_legacy.glsl"
#include "decode_k.glsl"
#include "decode_iq.glsl"
#include "decode_tq.glsl"
#ifndef LOAD_UNIT
#error "no decoder for WEIGHT_TYPE"
#endif

// Input element group `col` (vec4s) of the input row at vec4 offset x; a shader may define it to
// transform the input on the way in (matmul.comp's normed-input mode).
#ifndef INPUT_VEC4
#define INPUT_VEC4(x, col) X[(x) + (col)]
#endif

// Adds this lane's share of weight row `row_start` (a byte offset) times input rows
// in_row[0 .. count) (vec4 offsets) to acc: the lanes of a team walk the row in UNIT-element
// units, each dequantized once into registers and then used for every input row, so each
// weight is read once per TILE input rows.
void add_lane_dots(uint row_start, uint lane, uint in_row[TILE], uint count, inout float acc[TILE]) {
  uint n_units = u_cols / UNIT;
  for (uint unit = lane; unit < n_units; unit += TEAM) {
    vec4 w[UNIT_VEC4];
    LOAD_UNIT(row_start, unit, w);
    for (uint t = 0u; t < TILE; ++t) {
      if (t < count) {
        float sum = 0.0;
        for (uint i = 0u; i < UNIT_VEC4; ++i)
          sum += dot(w[i], INPUT_VEC4(in_row[t], unit * UNIT_VEC4 + i));
        acc[t] += sum;
      }
    }
  }
}
