// Rotary position embedding, in place: for row t (position pos0 + t) and each head, pair i of
// the n_rot dims from u_offset on (0, or deepseek2's rope part after the nope part) is rotated by the angle whose cos/sin are table[(t * n_rot/2 + i) * 2].
// Pairs are adjacent (2i, 2i+1) or split halves (i, i + n_rot/2). The table is computed on the
// CPU in double precision (angles at long positions lose too much in f32).
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Rows { float x[]; };
layout(std430, binding = 1) readonly buffer Table { vec2 cos_sin[]; };

uniform uint u_n_heads;
uniform uint u_head_dim;
uniform uint u_n_rot;
uniform uint u_offset;  // of the rotated dims in each head
uniform uint u_row_stride;
uniform uint u_split_halves;

void main() {
  uint half_rot = u_n_rot / 2u;
  uint i = gl_GlobalInvocationID.x;  // pair
  uint h = gl_GlobalInvocationID.y;  // head
  uint t = gl_GlobalInvocationID.z;  // row
  if (i >= half_rot || h >= u_n_heads) return;
  uint head = t * u_row_stride + h * u_head_dim + u_offset;
  uint a = head + (u_split_halves != 0u ? i : 2u * i);
  uint b = head + (u_split_halves != 0u ? i + half_rot : 2u * i + 1u);
  vec2 cs = cos_sin[t * half_rot + i];
  float a0 = x[a], b0 = x[b];
  x[a] = a0 * cs.x - b0 * cs.y;
  x[b] = a0 * cs.y + b0 * cs.x;
}
