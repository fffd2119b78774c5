// RMSNorm in place of groups of values inside rows: the q/k norms, over a whole projection
// (olmoe) or each head (qwen3moe, hunyuan-moe; llama4's without a weight). Workgroup (g, t)
// normalizes the u_width values that start at t * u_row_stride + u_first_col + g * u_width,
// times weight[0 .. u_width) when u_weighted.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Rows { float x[]; };
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };

uniform uint u_row_stride;
uniform uint u_first_col;
uniform uint u_width;
uniform uint u_weighted;
uniform float u_eps;

shared float partial[64];

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint base = gl_WorkGroupID.y * u_row_stride + u_first_col + gl_WorkGroupID.x * u_width;
  float sum = 0.0;
  for (uint c = lane; c < u_width; c += 64u) sum += x[base + c] * x[base + c];
  partial[lane] = sum;
  barrier();
  for (uint stride = 32u; stride > 0u; stride >>= 1) {
    if (lane < stride) partial[lane] += partial[lane + stride];
    barrier();
  }
  float scale = inversesqrt(partial[0] / float(u_width) + u_eps);
  for (uint c = lane; c < u_width; c += 64u) {
    float v = x[base + c] * scale;
    x[base + c] = u_weighted != 0u ? v * weight[c] : v;
  }
}
