// The attention block of one layer on the GPU, as the CPU backend's standard_qkv, latent_qkv and
// attention_block compute it: q/k/v projections (+ biases, dbrx's clamp), q/k norms before or
// after RoPE (hunyuan-moe; llama4's unweighted L2 norm), RoPE or llama4's NoPE temperature, or
// deepseek2's latent attention decompressed to per-head keys and values; the new keys/values
// into the KV cache, causal attention (windows, chunks, soft caps, sinks),
// the output projection (+ bias; grok's norm of it) added to the residual stream.
#include <algorithm>
#include <cmath>
#include <vector>

#include "gl_forward.hpp"

namespace moe {

using gl::ceil_div;
using gl::floats;

namespace {

int at_layer(const std::vector<int>& per_layer, int il) {
  return il < static_cast<int>(per_layer.size()) ? per_layer[static_cast<size_t>(il)] : 0;
}

// llama4's NoPE layers scale the queries by 1 + s log(floor((p + 1) / F) + 1), as the CPU
// backend computes it.
float query_temperature(const ModelConfig& config, int pos) {
  if (config.attn_temp_scale == 0 || config.attn_temp_floor <= 0) return 1.0f;
  const float steps =
      std::floor((static_cast<float>(pos) + 1.0f) / static_cast<float>(config.attn_temp_floor));
  return static_cast<float>(std::log(steps + 1.0) * config.attn_temp_scale + 1.0);
}

}  // namespace

bool GlBackend::Impl::standard_qkv(const Model& model, const gl::LayerBuffers& layer, int il,
                                   unsigned n, int pos0, const gl::Buffer& rope_table) {
  const ModelConfig& config = model.config();
  const Architecture& arch = model.architecture();
  gl::Scratch& s = scratch;
  const unsigned head_dim = static_cast<unsigned>(config.head_dim);
  const unsigned q_width = static_cast<unsigned>(config.n_head) * head_dim;
  const unsigned k_width = static_cast<unsigned>(config.n_head_kv) * head_dim;
  const unsigned qkv_width = layer.attn_qkv.rows;

  matmul_fused(layer.attn_qkv, s.normed, n, s.qkv);
  add(s.qkv, nullptr, &layer.qkv_bias, n * qkv_width, qkv_width, config.clamp_kqv);
  // q/k norms, each over groups of its weight's size: the projection or one head.
  const auto norm_qk = [&] {
    if (layer.q_norm.size == 0) return;
    group_norm(s.qkv, n, qkv_width, 0, q_width / layer.q_norm.size, layer.q_norm.size,
               &layer.q_norm, config.rms_eps);
    group_norm(s.qkv, n, qkv_width, q_width, k_width / layer.k_norm.size, layer.k_norm.size,
               &layer.k_norm, config.rms_eps);
  };
  const bool norm_after_rope = arch.hunyuan_moe;
  if (!norm_after_rope) norm_qk();
  const bool rotates = il >= static_cast<int>(config.layer_rotates.size()) ||
                       config.layer_rotates[static_cast<size_t>(il)];
  if (!rotates) {
    std::vector<float> temperatures(n);
    for (unsigned t = 0; t < n; ++t)
      temperatures[t] = query_temperature(config, pos0 + static_cast<int>(t));
    s.query_scales.reserve(floats(n));
    s.query_scales.upload(temperatures.data(), floats(n));
    return false;
  }
  // q and k heads are adjacent in each [q | k | v] row: one pass rotates both.
  rope(s.qkv, rope_table, n, static_cast<unsigned>(config.n_head + config.n_head_kv), head_dim, 0,
       qkv_width, static_cast<unsigned>(config.n_rot), arch.rope);
  if (norm_after_rope) norm_qk();
  if (config.qk_l2_norm) {  // llama4: per head, no weight
    group_norm(s.qkv, n, qkv_width, 0, (q_width + k_width) / head_dim, head_dim, nullptr,
               config.rms_eps);
  }
  return true;
}

void GlBackend::Impl::latent_qkv(const Model& model, const gl::LatentAttention& latent,
                                 unsigned n, const gl::Buffer& rope_table) {
  const ModelConfig& config = model.config();
  gl::Scratch& s = scratch;
  const unsigned n_head = static_cast<unsigned>(config.n_head);
  const unsigned head_dim = static_cast<unsigned>(config.head_dim);
  const unsigned head_dim_v = static_cast<unsigned>(config.head_dim_v);
  const unsigned n_rot = static_cast<unsigned>(config.n_rot), nope = head_dim - n_rot;
  const unsigned kv_lora = static_cast<unsigned>(config.kv_lora_rank);
  const unsigned q_width = n_head * head_dim;
  const unsigned qkv_width = n_head * (2 * head_dim + head_dim_v);
  const RopePairing pairing = model.architecture().rope;

  // Queries, each head's rope part rotated.
  if (latent.q_a.rows > 0) {
    const unsigned q_lora = latent.q_a.rows;
    s.q_low.reserve(floats(static_cast<size_t>(n) * q_lora));
    matmul(latent.q_a, s.normed, n, {&s.q_low, q_lora});
    group_norm(s.q_low, n, q_lora, 0, 1, q_lora, &latent.q_a_norm, config.rms_eps);
    matmul(latent.q_b, s.q_low, n, {&s.qkv, qkv_width});
  } else {
    matmul(latent.q, s.normed, n, {&s.qkv, qkv_width});
  }
  rope(s.qkv, rope_table, n, n_head, head_dim, nope, qkv_width, n_rot, pairing);
  // The compressed rows [latent | rope key]: the latent normed, the key rotated.
  const unsigned compressed_width = kv_lora + n_rot;
  s.compressed.reserve(floats(static_cast<size_t>(n) * compressed_width));
  matmul(latent.kv_a, s.normed, n, {&s.compressed, compressed_width});
  group_norm(s.compressed, n, compressed_width, 0, 1, kv_lora, &latent.kv_a_norm, config.rms_eps);
  rope(s.compressed, rope_table, n, 1, n_rot, kv_lora, compressed_width, n_rot, pairing);
  // Decompressed per head [k_nope | v], then keys and values into the [q | k | v] rows.
  const unsigned kv_width = latent.kv_b.rows;
  s.kv.reserve(floats(static_cast<size_t>(n) * kv_width));
  matmul(latent.kv_b, s.compressed, n, {&s.kv, kv_width}, compressed_width);
  gl::Program& assemble = *device->latent_kv;
  assemble.use();
  assemble.set("u_n_head", n_head);
  assemble.set("u_nope", nope);
  assemble.set("u_n_rot", n_rot);
  assemble.set("u_head_dim_v", head_dim_v);
  assemble.set("u_kv_lora", kv_lora);
  assemble.set("u_q_width", q_width);
  assemble.set("u_qkv_stride", qkv_width);
  gl::bind(0, s.kv);
  gl::bind(1, s.compressed);
  gl::bind(2, s.qkv);
  gl::dispatch(ceil_div(std::max(head_dim, head_dim_v), 64), n_head, n);
}

void GlBackend::Impl::attention_block(const Model& model, const gl::LayerBuffers& layer, int il,
                                      unsigned n, int pos0, const gl::LayerCache& cache) {
  const ModelConfig& config = model.config();
  gl::Scratch& s = scratch;
  const unsigned n_embd = static_cast<unsigned>(config.n_embd);
  const unsigned head_dim = static_cast<unsigned>(config.head_dim);
  const unsigned q_width = static_cast<unsigned>(config.n_head) * head_dim;
  const unsigned k_width = static_cast<unsigned>(config.n_head_kv) * head_dim;
  const unsigned v_width = static_cast<unsigned>(config.n_head_kv * config.head_dim_v);
  const unsigned attended_width = static_cast<unsigned>(config.n_head * config.head_dim_v);
  const unsigned qkv_width = q_width + k_width + v_width;
  bool rotates = true;
  if (model.architecture().attention == AttentionKind::LatentMultiHead) {
    latent_qkv(model, layer.latent, n, *cache.rope_table);
  } else {
    rotates = standard_qkv(model, layer, il, n, pos0, *cache.rope_table);
  }

  gl::Program& store = *device->kv_store;
  store.use();
  store.set("u_qkv_stride", qkv_width);
  store.set("u_q_width", q_width);
  store.set("u_k_width", k_width);
  store.set("u_v_width", v_width);
  store.set("u_pos0", static_cast<unsigned>(pos0));
  gl::bind(0, s.qkv);
  gl::bind(1, *cache.keys);
  gl::bind(2, *cache.values);
  gl::dispatch(ceil_div(std::max(k_width, v_width), 256), n);

  gl::Program& attention = *device->attention;
  attention.use();
  attention.set("u_head_dim", head_dim);
  attention.set("u_head_dim_v", static_cast<unsigned>(config.head_dim_v));
  attention.set("u_heads_per_kv", static_cast<unsigned>(config.n_head / config.n_head_kv));
  attention.set("u_q_stride", qkv_width);
  attention.set("u_k_stride", k_width);
  attention.set("u_v_stride", v_width);
  attention.set("u_out_stride", attended_width);
  attention.set("u_pos0", static_cast<unsigned>(pos0));
  attention.set("u_scale", config.kq_scale > 0
                               ? config.kq_scale
                               : 1.0f / std::sqrt(static_cast<float>(config.head_dim)));
  attention.set("u_window", static_cast<unsigned>(at_layer(config.attention_window, il)));
  attention.set("u_chunk", static_cast<unsigned>(at_layer(config.attention_chunk, il)));
  attention.set("u_softcap", config.attn_softcap);
  attention.set("u_has_sinks", layer.attn_sinks.size > 0 ? 1u : 0u);
  attention.set("u_has_query_scales", rotates ? 0u : 1u);
  gl::bind(0, s.qkv);
  gl::bind(1, *cache.keys);
  gl::bind(2, *cache.values);
  gl::bind(3, s.attended);
  gl::bind(4, layer.attn_sinks.size > 0 ? layer.attn_sinks.buffer : device->dummy);
  gl::bind(5, rotates ? device->dummy : s.query_scales);
  gl::dispatch(static_cast<unsigned>(config.n_head), n);

  if (layer.attn_output_norm.size > 0) {
    // grok: the projection (+ bias) normed, the norm added to the residual stream.
    s.projected.reserve(floats(static_cast<size_t>(n) * n_embd));
    matmul(layer.attn_output, s.attended, n, {&s.projected, n_embd});
    add(s.projected, nullptr, &layer.attn_output_bias, n * n_embd, n_embd);
    norm(NormKind::Rms, s.projected, 0, n, layer.attn_output_norm, gl::Vector(), n_embd,
         config.rms_eps, {&s.x, n_embd, 0, true, config.residual_scale});
    return;
  }
  // The projection added straight into the residual stream, then its bias.
  matmul(layer.attn_output, s.attended, n, {&s.x, n_embd, 0, true, config.residual_scale});
  add(s.x, nullptr, &layer.attn_output_bias, n * n_embd, n_embd);
}

}  // namespace moe
