// Causal grouped-query attention over the KV cache. One workgroup per (head, query row): keys
// are scored 64 at a time (one per thread), and an online softmax (running max and sum,
// rescaled per chunk) accumulates the values, each thread owning head_dim_v / 64 output dims.
layout(local_size_x = 64) in;
#define MAX_HEAD_DIM 256u
#define MAX_DIMS_PER_THREAD 4u

layout(std430, binding = 0) readonly buffer Queries { float q[]; };
layout(std430, binding = 1) readonly buffer Keys { vec4 k_cache[]; };  // head_dim % 4 == 0
layout(std430, binding = 2) readonly buffer Values { float v_cache[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_rows[]; };

uniform uint u_head_dim;
uniform uint u_head_dim_v;
uniform uint u_heads_per_kv;
uniform uint u_q_stride;    // floats per query row (n_head * head_dim)
uniform uint u_k_stride;    // floats per cached key row (n_head_kv * head_dim)
uniform uint u_v_stride;    // floats per cached value row
uniform uint u_out_stride;  // floats per output row (n_head * head_dim_v)
uniform uint u_pos0;
uniform float u_scale;

shared vec4 q_head[MAX_HEAD_DIM / 4u];
shared float scores[64];

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint h = gl_WorkGroupID.x;
  uint t = gl_WorkGroupID.y;
  uint kv_head = h / u_heads_per_kv;
  for (uint d = lane; d < u_head_dim; d += 64u)
    q_head[d >> 2][d & 3u] = q[t * u_q_stride + h * u_head_dim + d] * u_scale;
  barrier();

  uint n_visible = u_pos0 + t + 1u;  // causal: up to its own position
  float running_max = -1.0 / 0.0;
  float running_sum = 0.0;
  float acc[MAX_DIMS_PER_THREAD];
  for (uint i = 0u; i < MAX_DIMS_PER_THREAD; ++i) acc[i] = 0.0;

  for (uint chunk = 0u; chunk < n_visible; chunk += 64u) {
    uint key = chunk + lane;
    float score = -1.0 / 0.0;
    if (key < n_visible) {
      uint k_row = (key * u_k_stride + kv_head * u_head_dim) >> 2;
      score = 0.0;
      for (uint d = 0u; d < (u_head_dim >> 2); ++d) score += dot(q_head[d], k_cache[k_row + d]);
    }
    scores[lane] = score;
    barrier();
    uint chunk_size = min(64u, n_visible - chunk);
    float chunk_max = running_max;
    for (uint i = 0u; i < chunk_size; ++i) chunk_max = max(chunk_max, scores[i]);
    float correction = exp(running_max - chunk_max);
    running_sum *= correction;
    for (uint i = 0u; i < MAX_DIMS_PER_THREAD; ++i) acc[i] *= correction;
    for (uint i = 0u; i < chunk_size; ++i) {
      float p = exp(scores[i] - chunk_max);
      running_sum += p;
      uint v_row = (chunk + i) * u_v_stride + kv_head * u_head_dim_v;
      for (uint j = 0u; j < MAX_DIMS_PER_THREAD; ++j) {
        uint d = lane + 64u * j;
        if (d < u_head_dim_v) acc[j] += p * v_cache[v_row + d];
      }
    }
    running_max = chunk_max;
    barrier();  // scores[] is rewritten by the next chunk
  }
  for (uint j = 0u; j < MAX_DIMS_PER_THREAD; ++j) {
    uint d = lane + 64u * j;
    if (d < u_head_dim_v) out_rows[t * u_out_stride + h * u_head_dim_v + d] = acc[j] / running_sum;
  }
}
