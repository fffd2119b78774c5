// out row s = in row rows[s] times weights[s]: the experts' inputs of llama4, whose gate
// weight scales each chosen expert's input instead of its output.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) readonly buffer Rows { uint rows[]; };
layout(std430, binding = 2) readonly buffer Weights { float weights[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_rows[]; };

uniform uint u_cols;
uniform uint u_n_rows;

void main() {
  uint c = gl_GlobalInvocationID.x;
  uint s = gl_GlobalInvocationID.y;
  if (c >= u_cols || s >= u_n_rows) return;
  out_rows[s * u_cols + c] = x[rows[s] * u_cols + c] * weights[s];
}
