// Causal grouped-query attention over the KV cache. One workgroup per (head, query row): keys
// are scored 64 at a time (one per thread), and an online softmax (running max and sum,
// rescaled per block of 64 keys) accumulates the values, each thread owning head_dim_v / 64
// output dims.
// Options, as the CPU backend applies them: a sliding window (gpt-oss: keys less than u_window
// positions back) or chunks (llama4: keys from the start of the query's u_chunk-long chunk),
// scores soft-capped (grok: c tanh(s / c)), a per-head sink logit that joins the softmax's
// denominator without a value (gpt-oss), a per-query-row factor on the queries (llama4's NoPE
// temperature).
layout(local_size_x = 64) in;
#define MAX_HEAD_DIM 256u
#define MAX_DIMS_PER_THREAD 4u

layout(std430, binding = 0) readonly buffer Queries { float q[]; };
layout(std430, binding = 1) readonly buffer Keys { vec4 k_cache[]; };  // head_dim % 4 == 0
layout(std430, binding = 2) readonly buffer Values { float v_cache[]; };
layout(std430, binding = 3) writeonly buffer Output { float out_rows[]; };
layout(std430, binding = 4) readonly buffer Sinks { float sinks[]; };
layout(std430, binding = 5) readonly buffer QueryScales { float query_scales[]; };

uniform uint u_head_dim;
uniform uint u_head_dim_v;
uniform uint u_heads_per_kv;
uniform uint u_q_stride;    // floats per query row (n_head * head_dim)
uniform uint u_k_stride;    // floats per cached key row (n_head_kv * head_dim)
uniform uint u_v_stride;    // floats per cached value row
uniform uint u_out_stride;  // floats per output row (n_head * head_dim_v)
uniform uint u_pos0;
uniform float u_scale;
uniform uint u_window;  // 0: none
uniform uint u_chunk;   // 0: none
uniform float u_softcap;  // 0: none
uniform uint u_has_sinks;
uniform uint u_has_query_scales;

shared vec4 q_head[MAX_HEAD_DIM / 4u];
shared float scores[64];

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint h = gl_WorkGroupID.x;
  uint t = gl_WorkGroupID.y;
  uint kv_head = h / u_heads_per_kv;
  float q_scale = u_has_query_scales != 0u ? query_scales[t] : 1.0;
  for (uint d = lane; d < u_head_dim; d += 64u)
    q_head[d >> 2][d & 3u] = q[t * u_q_stride + h * u_head_dim + d] * q_scale * u_scale;
  barrier();

  uint n_visible = u_pos0 + t + 1u;  // causal: up to its own position
  uint first = 0u;
  if (u_window > 0u && n_visible > u_window) first = n_visible - u_window;
  if (u_chunk > 0u) first = (n_visible - 1u) / u_chunk * u_chunk;
  // A sink starts the softmax as one more score, exp(sink - max) in the sum, no value.
  float running_max = u_has_sinks != 0u ? sinks[h] : -1.0 / 0.0;
  float running_sum = u_has_sinks != 0u ? 1.0 : 0.0;
  float acc[MAX_DIMS_PER_THREAD];
  for (uint i = 0u; i < MAX_DIMS_PER_THREAD; ++i) acc[i] = 0.0;

  for (uint block = first; block < n_visible; block += 64u) {
    uint key = block + lane;
    float score = -1.0 / 0.0;
    if (key < n_visible) {
      uint k_row = (key * u_k_stride + kv_head * u_head_dim) >> 2;
      score = 0.0;
      uint n_vec = u_head_dim >> 2, d = 0u;
      for (; d + 4u <= n_vec; d += 4u) {  // four loads in flight, summed in order
        vec4 k0 = k_cache[k_row + d], k1 = k_cache[k_row + d + 1u];
        vec4 k2 = k_cache[k_row + d + 2u], k3 = k_cache[k_row + d + 3u];
        score += dot(q_head[d], k0);
        score += dot(q_head[d + 1u], k1);
        score += dot(q_head[d + 2u], k2);
        score += dot(q_head[d + 3u], k3);
      }
      for (; d < n_vec; ++d) score += dot(q_head[d], k_cache[k_row + d]);
      if (u_softcap > 0.0) score = precise_tanh(score / u_softcap) * u_softcap;
    }
    scores[lane] = score;
    barrier();
    uint block_size = min(64u, n_visible - block);
    float block_max = running_max;
    for (uint i = 0u; i < block_size; ++i) block_max = max(block_max, scores[i]);
    float correction = exp(running_max - block_max);
    running_sum *= correction;
    for (uint i = 0u; i < MAX_DIMS_PER_THREAD; ++i) acc[i] *= correction;
    barrier();  // every lane has read the scores: each turns its own into a weight
    scores[lane] = exp(scores[lane] - block_max);
    barrier();
    for (uint i = 0u; i < block_size; ++i) running_sum += scores[i];
    // The values, eight keys' loads in flight at a time (one key at a time waited on memory
    // for each: about 100 us per layer at decode on an H200); each dim sums in key order.
    uint v_first = block * u_v_stride + kv_head * u_head_dim_v;
    for (uint j = 0u; j < MAX_DIMS_PER_THREAD; ++j) {
      uint d = lane + 64u * j;
      if (d >= u_head_dim_v) continue;
      uint at = v_first + d, i = 0u;
      for (; i + 8u <= block_size; i += 8u, at += 8u * u_v_stride) {
        float v[8];
        for (uint u = 0u; u < 8u; ++u) v[u] = v_cache[at + u * u_v_stride];
        for (uint u = 0u; u < 8u; ++u) acc[j] += scores[i + u] * v[u];
      }
      for (; i < block_size; ++i, at += u_v_stride) acc[j] += scores[i] * v_cache[at];
    }
    running_max = block_max;
    barrier();  // scores[] is rewritten by the next block
  }
  for (uint j = 0u; j < MAX_DIMS_PER_THREAD; ++j) {
    uint d = lane + 64u * j;
    if (d < u_head_dim_v) out_rows[t * u_out_stride + h * u_head_dim_v + d] = acc[j] / running_sum;
  }
}
