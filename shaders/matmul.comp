// y = W x for a batch of input rows, W in its stored type (WEIGHT_TYPE, one of the TYPE_*
// defines). A workgroup computes ROWS_PER_GROUP output rows for up to TILE input rows: each
// row has a team of TEAM threads that walk the row in 32-element units (dequantized once into
// registers, then used for every input row of the tile) and sum their partial dot products in
// shared memory. So each weight is read once per TILE input rows.
//
// Grouped mode (MoE experts): workgroup z is one group {expert, first slot, slot count}; the
// weights are the expert's matrix and slot s reads input row slot_rows[s] (gathered) or row s.
// Output row s of y belongs to slot s. Outputs go to columns [u_out_col, u_out_col + u_rows) of
// rows u_out_stride floats apart (so q, k and v, or gate and up, can share one buffer), and are
// added to what is there when u_accumulate is set (a residual add without a separate pass).
// Block sizes and field offsets (Q4_K_BYTES, Q4_K_QS, ...) are defined by the GL backend from
// moe/gguf_blocks.hpp (gl_weight_formats.cpp). The decoders live in one file per type family
// (decode_*.glsl).
layout(local_size_x = 128) in;
#define TEAM 32u
#define ROWS_PER_GROUP 4u
#define TILE 8u

layout(std430, binding = 0) readonly buffer Weights { uint W[]; };
layout(std430, binding = 1) readonly buffer Input { vec4 X[]; };
layout(std430, binding = 2) buffer Output { float Y[]; };
layout(std430, binding = 3) readonly buffer Groups { uint groups[]; };
layout(std430, binding = 4) readonly buffer SlotRows { uint slot_rows[]; };

uniform uint u_rows;          // output features
uniform uint u_cols;          // input features (a multiple of 32)
uniform uint u_row_bytes;     // bytes of one weight row
uniform uint u_matrix_bytes;  // bytes of one expert's matrix (grouped mode)
uniform uint u_n_slots;       // input rows (plain mode)
uniform uint u_in_stride;     // floats between input rows (a multiple of 4)
uniform uint u_out_stride;    // floats between output rows
uniform uint u_out_col;       // first output column
uniform uint u_accumulate;    // 1: y += W x
uniform float u_alpha;        // the product is scaled by this (granite's multipliers; else 1)
uniform uint u_grouped;       // 1: groups[] / slot_rows[] are used
uniform uint u_gather;        // 1: slot s reads input row slot_rows[s]

shared float partial[128u * TILE];

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

void main() {
  uint team = gl_LocalInvocationID.x / TEAM;
  uint lane = gl_LocalInvocationID.x % TEAM;
  uint row = gl_WorkGroupID.x * ROWS_PER_GROUP + team;

  uint matrix = 0u, first_slot = 0u, n_slots = u_n_slots;
  if (u_grouped != 0u) {
    uint g = gl_WorkGroupID.z;
    matrix = groups[3u * g] * u_matrix_bytes;
    first_slot = groups[3u * g + 1u];
    n_slots = groups[3u * g + 2u];
  }
  uint tile_first = gl_WorkGroupID.y * TILE;
  if (tile_first >= n_slots) return;  // the whole workgroup leaves together
  uint tile_count = min(TILE, n_slots - tile_first);

  uint in_row[TILE];
  for (uint t = 0u; t < TILE; ++t) {
    uint slot = first_slot + tile_first + min(t, tile_count - 1u);
    in_row[t] = (u_gather != 0u ? slot_rows[slot] : slot) * (u_in_stride >> 2);
  }

  float acc[TILE];
  for (uint t = 0u; t < TILE; ++t) acc[t] = 0.0;
  if (row < u_rows) {
    uint row_start = matrix + row * u_row_bytes;
    uint n_units = u_cols / UNIT;
    for (uint unit = lane; unit < n_units; unit += TEAM) {
      vec4 w[UNIT_VEC4];
      LOAD_UNIT(row_start, unit, w);
      for (uint t = 0u; t < TILE; ++t) {
        if (t < tile_count) {
          uint x = in_row[t] + unit * UNIT_VEC4;
          float sum = 0.0;
          for (uint i = 0u; i < UNIT_VEC4; ++i) sum += dot(w[i], X[x + i]);
          acc[t] += sum;
        }
      }
    }
  }
  for (uint t = 0u; t < TILE; ++t) partial[gl_LocalInvocationID.x * TILE + t] = acc[t];
  barrier();
  if (row < u_rows && lane < tile_count) {
    float sum = 0.0;
    for (uint i = 0u; i < TEAM; ++i) sum += partial[(team * TEAM + i) * TILE + lane];
    uint at = (first_slot + tile_first + lane) * u_out_stride + u_out_col + row;
    sum *= u_alpha;
    Y[at] = u_accumulate != 0u ? Y[at] + sum : sum;
  }
}
