// y += a (when u_has_addend) and y += bias (when u_has_bias), over n elements of rows of u_cols
// columns; then y clamped to +-u_clamp when it is positive (dbrx's clamped q/k/v). The bias is
// per column, or with u_bias_by_row per row's expert: row r adds bias row bias_rows[r] (gpt-oss's
// expert biases on the grouped slots).
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Target { float y[]; };
layout(std430, binding = 1) readonly buffer Addend { float a[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) readonly buffer BiasRows { uint bias_rows[]; };

uniform uint u_n;
uniform uint u_cols;
uniform uint u_has_addend;
uniform uint u_has_bias;
uniform uint u_bias_by_row;
uniform float u_clamp;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= u_n) return;
  float v = y[i];
  if (u_has_addend != 0u) v += a[i];
  if (u_has_bias != 0u) {
    uint bias_row = u_bias_by_row != 0u ? bias_rows[i / u_cols] : 0u;
    v += bias[bias_row * u_cols + i % u_cols];
  }
  if (u_clamp > 0.0) v = clamp(v, -u_clamp, u_clamp);
  y[i] = v;
}
