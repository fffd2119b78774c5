// Multi-head latent attention (deepseek2): per token t and head h, the key [k_nope from the
// latent's decompression | the one rope key all heads share] and the value (the decompression's
// rest), written where a standard layer's keys and values go in its [q | k | v] rows.
// kv rows hold per head [k_nope (u_nope) | v (u_head_dim_v)]; compressed rows hold
// [latent (u_kv_lora) | rope key (u_n_rot)], the rope key already rotated.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Kv { float kv[]; };
layout(std430, binding = 1) readonly buffer Compressed { float compressed[]; };
layout(std430, binding = 2) buffer Qkv { float qkv[]; };

uniform uint u_n_head;
uniform uint u_nope;
uniform uint u_n_rot;
uniform uint u_head_dim_v;
uniform uint u_kv_lora;
uniform uint u_q_width;     // the queries' columns in a [q | k | v] row
uniform uint u_qkv_stride;

void main() {
  uint d = gl_GlobalInvocationID.x;
  uint h = gl_GlobalInvocationID.y;
  uint t = gl_GlobalInvocationID.z;
  uint head_dim = u_nope + u_n_rot;
  uint kv_row = (t * u_n_head + h) * (u_nope + u_head_dim_v);
  uint out_row = t * u_qkv_stride + u_q_width;
  uint rope_key = t * (u_kv_lora + u_n_rot) + u_kv_lora;
  if (d < head_dim) {
    float key = d < u_nope ? kv[kv_row + d] : compressed[rope_key + d - u_nope];
    qkv[out_row + h * head_dim + d] = key;
  }
  if (d < u_head_dim_v)
    qkv[out_row + u_n_head * head_dim + h * u_head_dim_v + d] = kv[kv_row + u_nope + d];
}
