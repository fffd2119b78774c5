// y += a (when u_has_addend) and y += bias[column] (when u_has_bias), over n elements of rows
// of u_cols columns.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Target { float y[]; };
layout(std430, binding = 1) readonly buffer Addend { float a[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };

uniform uint u_n;
uniform uint u_cols;
uniform uint u_has_addend;
uniform uint u_has_bias;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= u_n) return;
  float v = y[i];
  if (u_has_addend != 0u) v += a[i];
  if (u_has_bias != 0u) v += bias[i % u_cols];
  y[i] = v;
}
