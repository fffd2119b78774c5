// Copies the new keys and values of n rows into the KV cache at rows pos0 .. pos0 + n - 1.
// The rows are [q | k | v] (the fused projection's output, u_qkv_stride floats apart).
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 1) writeonly buffer Keys { float k_cache[]; };
layout(std430, binding = 2) writeonly buffer Values { float v_cache[]; };

uniform uint u_qkv_stride;
uniform uint u_q_width;
uniform uint u_k_width;
uniform uint u_v_width;
uniform uint u_pos0;

void main() {
  uint c = gl_GlobalInvocationID.x;
  uint t = gl_GlobalInvocationID.y;
  uint row = t * u_qkv_stride + u_q_width;
  if (c < u_k_width) k_cache[(u_pos0 + t) * u_k_width + c] = qkv[row + c];
  if (c < u_v_width) v_cache[(u_pos0 + t) * u_v_width + c] = qkv[row + u_k_width + c];
}
