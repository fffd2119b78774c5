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
// moe/gguf_blocks.hpp (gl_device.cpp).
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
// 16-34 byte pieces (coalesced); 32 for the types whose element order spans a whole block.
#if WEIGHT_TYPE == TYPE_F32 || WEIGHT_TYPE == TYPE_F16 || WEIGHT_TYPE == TYPE_BF16 || \
    WEIGHT_TYPE == TYPE_Q8_0
#define UNIT 8u
#else
#define UNIT 32u
#endif
#define UNIT_VEC4 (UNIT / 4u)

// Dequantizes elements [UNIT * unit, UNIT * unit + UNIT) of the row starting at byte `row`.
void load_unit(uint row, uint unit, out vec4 w[UNIT_VEC4]) {
#if WEIGHT_TYPE == TYPE_F32
  uint base = (row >> 2) + unit * 8u;
  for (uint i = 0u; i < 2u; ++i)
    w[i] = uintBitsToFloat(uvec4(W[base + 4u * i], W[base + 4u * i + 1u], W[base + 4u * i + 2u],
                                 W[base + 4u * i + 3u]));
#elif WEIGHT_TYPE == TYPE_F16
  uint base = (row >> 2) + unit * 4u;
  for (uint i = 0u; i < 2u; ++i)
    w[i] = vec4(unpackHalf2x16(W[base + 2u * i]), unpackHalf2x16(W[base + 2u * i + 1u]));
#elif WEIGHT_TYPE == TYPE_BF16
  uint base = (row >> 2) + unit * 4u;
  for (uint i = 0u; i < 2u; ++i) {
    uint a = W[base + 2u * i], b = W[base + 2u * i + 1u];
    w[i] = uintBitsToFloat(uvec4(a << 16, a & 0xffff0000u, b << 16, b & 0xffff0000u));
  }
#elif WEIGHT_TYPE == TYPE_Q8_0
  // Blocks of an f16 scale and 32 int8; this unit is the quarter (unit & 3) of block unit / 4.
  uint block = row + (unit >> 2) * Q8_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + Q8_0_D));
  uint first = block + Q8_0_QS + 8u * (unit & 3u);
  for (uint i = 0u; i < 2u; ++i) {
    int q = int(LOAD_U32(W, first + 4u * i));
    w[i] = d * vec4(bitfieldExtract(q, 0, 8), bitfieldExtract(q, 8, 8), bitfieldExtract(q, 16, 8),
                    bitfieldExtract(q, 24, 8));
  }
#elif WEIGHT_TYPE == TYPE_Q4_0
  // Blocks of an f16 scale and 16 bytes; byte j holds element j (low nibble) and j + 16 (high).
  uint block = row + unit * Q4_0_BYTES;
  float d = half_to_float(LOAD_U16(W, block + Q4_0_D));
  for (uint i = 0u; i < 4u; ++i) {
    uint q = LOAD_U32(W, block + Q4_0_QS + 4u * i);
    vec4 lo = vec4(q & 15u, (q >> 8) & 15u, (q >> 16) & 15u, (q >> 24) & 15u);
    vec4 hi = vec4((q >> 4) & 15u, (q >> 12) & 15u, (q >> 20) & 15u, (q >> 28) & 15u);
    w[i] = d * (lo - 8.0);
    w[i + 4u] = d * (hi - 8.0);
  }
#elif WEIGHT_TYPE == TYPE_Q4_K || WEIGHT_TYPE == TYPE_Q5_K
  // 256-element super-blocks of 8 groups of 32 (one group is one unit here).
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
    uint q = LOAD_U32(W, qbase + 4u * i) >> shift;
    vec4 v = vec4(q & 15u, (q >> 8) & 15u, (q >> 16) & 15u, (q >> 24) & 15u);
#if WEIGHT_TYPE == TYPE_Q5_K
    uint h = LOAD_U32(W, block + Q5_K_QH + 4u * i) >> group;
    v += 16.0 * vec4(h & 1u, (h >> 8) & 1u, (h >> 16) & 1u, (h >> 24) & 1u);
#endif
    w[i] = scale * v - minimum;
  }
#elif WEIGHT_TYPE == TYPE_Q6_K
  // Super-blocks of ql[128], qh[64], int8 scales[16], f16 d. Unit u (0..7) of a super-block is
  // elements 128h + 32j + k with h = u / 4, j = u % 4, k = 0..31.
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
    uint lo = LOAD_U32(W, ql + 4u * i) >> lo_shift;
    uint hi = LOAD_U32(W, qh + 4u * i) >> (2u * j);
    uvec4 q = uvec4(lo & 15u, (lo >> 8) & 15u, (lo >> 16) & 15u, (lo >> 24) & 15u) |
              (uvec4(hi & 3u, (hi >> 8) & 3u, (hi >> 16) & 3u, (hi >> 24) & 3u) << 4);
    w[i] = (i < 4u ? scale_lo : scale_hi) * (vec4(q) - 32.0);
  }
#else
#error "unknown WEIGHT_TYPE"
#endif
}

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
      load_unit(row_start, unit, w);
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
