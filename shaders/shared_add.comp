// The shared experts' output added to the residual stream, one workgroup per token:
// out[t] += alpha * g(t) * shared[t], g(t) = sigmoid(gate . x[t]) when u_gated (qwen2moe's
// shared-expert gate), else 1 (deepseek2). alpha: the residual multiplier.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Output { float out_rows[]; };
layout(std430, binding = 1) readonly buffer Shared { float shared_rows[]; };
layout(std430, binding = 2) readonly buffer Input { float x[]; };
layout(std430, binding = 3) readonly buffer Gate { float gate[]; };

uniform uint u_cols;
uniform uint u_gated;
uniform float u_alpha;

shared float partial[256];

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint row = gl_WorkGroupID.x * u_cols;
  float g = 1.0;
  if (u_gated != 0u) {
    float sum = 0.0;
    for (uint c = lane; c < u_cols; c += 256u) sum += x[row + c] * gate[c];
    partial[lane] = sum;
    barrier();
    for (uint stride = 128u; stride > 0u; stride >>= 1) {
      if (lane < stride) partial[lane] += partial[lane + stride];
      barrier();
    }
    g = 1.0 / (1.0 + exp(-partial[0]));
  }
  for (uint c = lane; c < u_cols; c += 256u) out_rows[row + c] += u_alpha * (g * shared_rows[row + c]);
}
