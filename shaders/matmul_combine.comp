// The routed experts' down matrix and their mix in one pass, for decode: workgroup z is token t,
// and output row r of t is
//   y[t][r] = alpha * sum over t's choices, in rank order, of weight * (W_e[r] . hidden[slot])
// (e the slot's expert), stored or added to y (u_accumulate). moe_combine.comp's mix of
// matmul.comp's grouped products, without writing the products out first and reading them back;
// each choice's product is still stored in expert_out[slot] for the trace. A token has at most
// TILE choices (the host checks). Weights as in matmul.comp (weight_rows.glsl).
layout(local_size_x = 128) in;
#define TEAM 32u
#define ROWS_PER_GROUP 4u
#define TILE 8u

layout(std430, binding = 0) readonly buffer Weights { uint W[]; };
layout(std430, binding = 1) readonly buffer Input { vec4 X[]; };  // hidden rows, one per slot
layout(std430, binding = 2) buffer Output { float Y[]; };
layout(std430, binding = 3) readonly buffer TokenRanges { uint token_ranges[]; };  // {first, count}
layout(std430, binding = 4) readonly buffer Choices { uint choices[]; };  // {slot, weight bits}
layout(std430, binding = 5) readonly buffer SlotExperts { uint slot_experts[]; };
layout(std430, binding = 6) writeonly buffer ExpertOut { float expert_out[]; };

uniform uint u_rows;          // output features
uniform uint u_cols;          // input features (a multiple of 32)
uniform uint u_row_bytes;     // bytes of one weight row
uniform uint u_matrix_bytes;  // bytes of one expert's matrix
uniform uint u_in_stride;     // floats between hidden rows (a multiple of 4)
uniform uint u_out_stride;    // floats between output rows
uniform uint u_accumulate;    // 1: y += the mix
uniform float u_alpha;        // the mix is scaled by this (granite's residual multiplier; else 1)

shared float partial[128u * TILE];
shared float products[ROWS_PER_GROUP * TILE];

#include "weight_rows.glsl"

void main() {
  uint team = gl_LocalInvocationID.x / TEAM;
  uint lane = gl_LocalInvocationID.x % TEAM;
  uint row = gl_WorkGroupID.x * ROWS_PER_GROUP + team;
  uint token = gl_WorkGroupID.z;
  uint first = token_ranges[2u * token];
  uint count = min(token_ranges[2u * token + 1u], TILE);

  // acc[c]: this lane's share of choice c's product (each choice has its own expert's matrix).
  float acc[TILE];
  for (uint c = 0u; c < TILE; ++c) acc[c] = 0.0;
  if (row < u_rows) {
    for (uint c = 0u; c < count; ++c) {
      uint slot = choices[2u * (first + c)];
      uint in_row[TILE];
      float share[TILE];
      for (uint t = 0u; t < TILE; ++t) {
        in_row[t] = slot * (u_in_stride >> 2);
        share[t] = 0.0;
      }
      add_lane_dots(slot_experts[slot] * u_matrix_bytes + row * u_row_bytes, lane, in_row, 1u,
                    share);
      acc[c] = share[0];
    }
  }
  for (uint c = 0u; c < TILE; ++c) partial[gl_LocalInvocationID.x * TILE + c] = acc[c];
  barrier();
  if (row < u_rows && lane < count) {
    float product = 0.0;
    for (uint i = 0u; i < TEAM; ++i) product += partial[(team * TEAM + i) * TILE + lane];
    products[team * TILE + lane] = product;
    expert_out[choices[2u * (first + lane)] * u_rows + row] = product;
  }
  barrier();
  if (row < u_rows && lane == 0u) {
    float mix = 0.0;
    for (uint c = 0u; c < count; ++c)
      mix += uintBitsToFloat(choices[2u * (first + c) + 1u]) * products[team * TILE + c];
    uint at = token * u_out_stride + row;
    Y[at] = u_accumulate != 0u ? Y[at] + u_alpha * mix : u_alpha * mix;
  }
}
