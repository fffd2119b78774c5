// gate = silu(gate) * up, elementwise over n values.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };

uniform uint u_n;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= u_n) return;
  float g = gate[i];
  gate[i] = g / (1.0 + exp(-g)) * up[i];
}
