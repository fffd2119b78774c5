// out = silu(gate) * up for rows laid out as [gate (u_width) | up (u_width)]; out rows are
// u_width wide.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer GateUp { float gate_up[]; };
layout(std430, binding = 1) writeonly buffer Output { float out_rows[]; };

uniform uint u_n;      // output values: rows * u_width
uniform uint u_width;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= u_n) return;
  uint row = i / u_width, col = i % u_width;
  float g = gate_up[row * 2u * u_width + col];
  float u = gate_up[row * 2u * u_width + u_width + col];
  out_rows[i] = g / (1.0 + exp(-g)) * u;
}
