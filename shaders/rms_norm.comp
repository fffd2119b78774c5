// RMSNorm of one row per workgroup: y = x / sqrt(mean(x^2) + eps) * weight.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, binding = 2) writeonly buffer Output { float y[]; };

uniform uint u_cols;
uniform uint u_first_row;  // input row of workgroup 0 (output rows start at 0)
uniform float u_eps;

shared float partial[256];

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint in_row = (u_first_row + gl_WorkGroupID.x) * u_cols;
  uint out_row = gl_WorkGroupID.x * u_cols;
  float sum = 0.0;
  for (uint c = lane; c < u_cols; c += 256u) sum += x[in_row + c] * x[in_row + c];
  partial[lane] = sum;
  barrier();
  for (uint stride = 128u; stride > 0u; stride >>= 1) {
    if (lane < stride) partial[lane] += partial[lane + stride];
    barrier();
  }
  float scale = inversesqrt(partial[0] / float(u_cols) + u_eps);
  for (uint c = lane; c < u_cols; c += 256u) y[out_row + c] = x[in_row + c] * scale * weight[c];
}
