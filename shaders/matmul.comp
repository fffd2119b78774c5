// y = W x for a batch of input rows, W in its stored type (weight_rows.glsl). A workgroup
// computes ROWS_PER_GROUP output rows for up to TILE input rows: each row has a team of TEAM
// threads that each take a share of the row (add_lane_dots) and sum their partial dot products
// in shared memory.
//
// Grouped mode (MoE experts): workgroup z is one group {expert, first slot, slot count}; the
// weights are the expert's matrix and slot s reads input row slot_rows[s] (gathered) or row s.
// Output row s of y belongs to slot s. Outputs go to columns [u_out_col, u_out_col + u_rows) of
// rows u_out_stride floats apart (so q, k and v can share one buffer), and are added to what is
// there when u_accumulate is set (a residual add without a separate pass).
//
// Gated mode (u_gated): W is a fused [gate | up] matrix of 2 u_rows rows, and output row r is
// act(gate_r + b) * (up_r + b') (glu_activation.glsl), b and b' the expert's [gate | up] biases
// when u_has_bias: the gated FFN's input to its down matrix in one pass instead of two.
//
// Normed input (compiled with NORMED_INPUT; plain mode): the input rows are the residual stream
// x, and the block's RMSNorm x / sqrt(mean(x^2) + eps) * g is applied on the way in: the row's
// scale is computed here and the product taken with x * g, then scaled. Workgroup column 0 also
// stores the normed rows (as norm.comp would) for the norm's other readers. This saves the norm's
// own dispatch before the first matmul of a block.
layout(local_size_x = 128) in;
#define TEAM 32u
#define ROWS_PER_GROUP 4u
#define TILE 8u

layout(std430, binding = 0) readonly buffer Weights { uint W[]; };
layout(std430, binding = 1) readonly buffer Input { vec4 X[]; };
layout(std430, binding = 2) buffer Output { float Y[]; };
layout(std430, binding = 3) readonly buffer Groups { uint groups[]; };
layout(std430, binding = 4) readonly buffer SlotRows { uint slot_rows[]; };
layout(std430, binding = 5) readonly buffer Biases { float biases[]; };  // per expert [gate | up]

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
uniform uint u_gated;         // 1: gated mode
uniform uint u_activation;    // gated mode: ExpertActivation
uniform uint u_has_bias;      // gated mode: add the expert's biases

shared float partial[128u * TILE];
shared float partial_up[128u * TILE];  // gated mode: the up rows'

#ifdef NORMED_INPUT
layout(std430, binding = 8) readonly buffer NormWeight { vec4 G[]; };
layout(std430, binding = 9) writeonly buffer Normed { float normed[]; };
uniform float u_norm_eps;
shared float scales[TILE];  // each tile row's 1 / sqrt(mean(x^2) + eps)
#define INPUT_VEC4(x, col) (X[(x) + (col)] * G[col])
#endif

#include "weight_rows.glsl"
#define GELU_TABLE_BINDING 6
#include "glu_activation.glsl"

void main() {
  uint team = gl_LocalInvocationID.x / TEAM;
  uint lane = gl_LocalInvocationID.x % TEAM;
  uint row = gl_WorkGroupID.x * ROWS_PER_GROUP + team;

  uint expert = 0u, first_slot = 0u, n_slots = u_n_slots;
  if (u_grouped != 0u) {
    uint g = gl_WorkGroupID.z;
    expert = groups[3u * g];
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

#ifdef NORMED_INPUT
  {
    float squares[TILE];
    for (uint t = 0u; t < TILE; ++t) squares[t] = 0.0;
    for (uint v = lane; v < u_cols / 4u; v += TEAM) {
      for (uint t = 0u; t < TILE; ++t) {
        vec4 x = X[in_row[t] + v];
        if (t < tile_count) squares[t] += dot(x, x);
      }
    }
    for (uint t = 0u; t < TILE; ++t) partial[gl_LocalInvocationID.x * TILE + t] = squares[t];
    barrier();
    if (team == 0u && lane < tile_count) {
      float total = 0.0;
      for (uint i = 0u; i < TEAM; ++i) total += partial[i * TILE + lane];
      scales[lane] = inversesqrt(total / float(u_cols) + u_norm_eps);
    }
    barrier();
    if (gl_WorkGroupID.x == 0u) {
      for (uint t = 0u; t < tile_count; ++t) {
        uint out_row = (first_slot + tile_first + t) * u_cols;
        for (uint v = gl_LocalInvocationID.x; v < u_cols / 4u; v += 128u) {
          vec4 y = X[in_row[t] + v] * scales[t] * G[v];
          for (uint i = 0u; i < 4u; ++i) normed[out_row + 4u * v + i] = y[i];
        }
      }
    }
  }
#endif

  float acc[TILE], acc_up[TILE];
  for (uint t = 0u; t < TILE; ++t) {
    acc[t] = 0.0;
    acc_up[t] = 0.0;
  }
  if (row < u_rows) {
    uint matrix = expert * u_matrix_bytes;
    add_lane_dots(matrix + row * u_row_bytes, lane, in_row, tile_count, acc);
    if (u_gated != 0u)
      add_lane_dots(matrix + (u_rows + row) * u_row_bytes, lane, in_row, tile_count, acc_up);
  }
  for (uint t = 0u; t < TILE; ++t) {
    partial[gl_LocalInvocationID.x * TILE + t] = acc[t];
    partial_up[gl_LocalInvocationID.x * TILE + t] = acc_up[t];
  }
  barrier();
  if (row < u_rows && lane < tile_count) {
    float sum = 0.0, sum_up = 0.0;
    for (uint i = 0u; i < TEAM; ++i) {
      sum += partial[(team * TEAM + i) * TILE + lane];
      sum_up += partial_up[(team * TEAM + i) * TILE + lane];
    }
    uint at = (first_slot + tile_first + lane) * u_out_stride + u_out_col + row;
#ifdef NORMED_INPUT
    sum *= scales[lane];
    sum_up *= scales[lane];
#endif
    sum *= u_alpha;
    if (u_gated != 0u) {
      sum_up *= u_alpha;
      if (u_has_bias != 0u) {
        sum += biases[expert * 2u * u_rows + row];
        sum_up += biases[expert * 2u * u_rows + u_rows + row];
      }
      sum = gated_activation(u_activation, sum, sum_up);
    }
    Y[at] = u_accumulate != 0u ? Y[at] + sum : sum;
  }
}
