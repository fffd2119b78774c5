// The attention block of one layer, per architecture: standard q/k/v projections (optional
// biases, QK-norm over the projection or per head) or DeepSeek's multi-head latent attention,
// then RoPE, the KV cache and causal attention.
#include <cmath>
#include <vector>

#include "cpu_kernels.hpp"
#include "moe/error.hpp"

namespace moe::cpu {

namespace {

void add_bias(const gguf::TensorInfo* bias, RowMatrix& x, std::vector<float>& storage) {
  if (bias == nullptr) return;
  const std::span<const float> values = vector_f32(*bias, storage);
  x.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(values.data(), x.cols());
}

bool rotates(const ModelConfig& config, int il) {
  return il >= static_cast<int>(config.layer_rotates.size()) ||
         config.layer_rotates[static_cast<size_t>(il)];
}

// llama4's NoPE layers scale the queries by 1 + s log(floor((p + 1) / F) + 1), as llama.cpp
// computes it (1 within the first F positions).
float attention_temperature(const ModelConfig& config, Eigen::Index pos) {
  if (config.attn_temp_scale == 0 || config.attn_temp_floor <= 0) return 1.0f;
  const float steps =
      std::floor((static_cast<float>(pos) + 1.0f) / static_cast<float>(config.attn_temp_floor));
  return static_cast<float>(std::log(steps + 1.0) * config.attn_temp_scale + 1.0);
}

// Queries, keys and values of the standard attention, rotated; keys/values n_head_kv wide.
void standard_qkv(Kernels& kernels, const Model& model, int il, const RowMatrix& x, int pos0,
                  const RopeParams& rope, RowMatrix& q, RowMatrix& k, RowMatrix& v) {
  const LayerWeights& layer = model.layer(il);
  const ModelConfig& config = model.config();
  std::vector<float> storage;
  // One parallel run for the three projections (x quantized once).
  const Kernels::MatmulJob projections[] = {{WeightMatrix::of(*layer.attn_q), &x, &q},
                                            {WeightMatrix::of(*layer.attn_k), &x, &k},
                                            {WeightMatrix::of(*layer.attn_v), &x, &v}};
  kernels.matmul_many(projections);
  add_bias(layer.attn_q_bias, q, storage);
  add_bias(layer.attn_k_bias, k, storage);
  add_bias(layer.attn_v_bias, v, storage);
  if (config.clamp_kqv > 0) {  // dbrx
    for (RowMatrix* projection : {&q, &k, &v})
      *projection = projection->cwiseMax(-config.clamp_kqv).cwiseMin(config.clamp_kqv);
  }
  // The weight's size says the group: the whole projection (olmoe) or one head (qwen3moe);
  // hunyuan-moe norms after RoPE, the others before.
  const bool qk_norm = layer.attn_q_norm != nullptr;
  const bool norm_after_rope = model.architecture().hunyuan_moe;
  const auto norm_qk = [&] {
    rms_norm_groups(q, vector_f32(*layer.attn_q_norm, storage), config.rms_eps);
    rms_norm_groups(k, vector_f32(*layer.attn_k_norm, storage), config.rms_eps);
  };
  if (qk_norm && !norm_after_rope) norm_qk();
  if (!rotates(config, il)) {
    // llama4's NoPE layers: no rotation; the queries' temperature grows with the position.
    for (Eigen::Index t = 0; t < q.rows(); ++t) q.row(t) *= attention_temperature(config, pos0 + t);
    return;
  }
  apply_rope(q, config.n_head, config.head_dim, 0, rope, pos0);
  apply_rope(k, config.n_head_kv, config.head_dim, 0, rope, pos0);
  if (qk_norm && norm_after_rope) norm_qk();
  if (config.qk_l2_norm) {  // llama4: per head, no weight
    const std::vector<float> ones(static_cast<size_t>(config.head_dim), 1.0f);
    rms_norm_groups(q, ones, config.rms_eps);
    rms_norm_groups(k, ones, config.rms_eps);
  }
}

// Multi-head latent attention (deepseek2), decompressed: per head a query [nope | rope], a key
// [k_nope from the latent | the one shared rope key] and a value from the latent.
void latent_qkv(Kernels& kernels, const Model& model, const LayerWeights& layer, const RowMatrix& x,
                int pos0, const RopeParams& rope, RowMatrix& q, RowMatrix& k, RowMatrix& v) {
  const ModelConfig& config = model.config();
  const int n = static_cast<int>(x.rows());
  const int n_head = config.n_head, head_dim = config.head_dim, head_dim_v = config.head_dim_v;
  const int n_rot = config.n_rot, nope = head_dim - n_rot, kv_lora = config.kv_lora_rank;
  std::vector<float> storage;

  if (layer.attn_q_a != nullptr) {
    RowMatrix q_low, q_low_normed;
    kernels.matmul(WeightMatrix::of(*layer.attn_q_a), x, q_low);
    rms_norm(q_low, vector_f32(*layer.attn_q_a_norm, storage), config.rms_eps, q_low_normed);
    kernels.matmul(WeightMatrix::of(*layer.attn_q_b), q_low_normed, q);
  } else {
    kernels.matmul(WeightMatrix::of(*layer.attn_q), x, q);
  }
  apply_rope(q, n_head, head_dim, nope, rope, pos0);

  RowMatrix compressed, latent;
  kernels.matmul(WeightMatrix::of(*layer.attn_kv_a_mqa), x, compressed);
  rms_norm(compressed.leftCols(kv_lora), vector_f32(*layer.attn_kv_a_norm, storage), config.rms_eps,
           latent);
  RowMatrix rope_key = compressed.rightCols(n_rot);
  apply_rope(rope_key, 1, n_rot, 0, rope, pos0);

  k.resize(n, static_cast<Eigen::Index>(n_head) * head_dim);
  v.resize(n, static_cast<Eigen::Index>(n_head) * head_dim_v);
  if (layer.attn_kv_b != nullptr) {
    RowMatrix kv;  // per head [k_nope | v]
    kernels.matmul(WeightMatrix::of(*layer.attn_kv_b), latent, kv);
    for (int h = 0; h < n_head; ++h) {
      const Eigen::Index from = static_cast<Eigen::Index>(h) * (nope + head_dim_v);
      k.middleCols(static_cast<Eigen::Index>(h) * head_dim, nope) = kv.middleCols(from, nope);
      v.middleCols(static_cast<Eigen::Index>(h) * head_dim_v, head_dim_v) =
          kv.middleCols(from + nope, head_dim_v);
    }
  } else {
    // Split form: k_b holds per head a kv_lora x nope matrix (k_nope = latent . k_b), v_b a
    // head_dim_v x kv_lora one (v = v_b . latent).
    RowMatrix k_b(kv_lora, nope), head_v;
    for (int h = 0; h < n_head; ++h) {
      WeightMatrix::expert(*layer.attn_k_b, h).rows_to_f32(0, kv_lora, k_b.data());
      k.middleCols(static_cast<Eigen::Index>(h) * head_dim, nope).noalias() = latent * k_b;
      kernels.matmul(WeightMatrix::expert(*layer.attn_v_b, h), latent, head_v);
      v.middleCols(static_cast<Eigen::Index>(h) * head_dim_v, head_dim_v) = head_v;
    }
  }
  for (int h = 0; h < n_head; ++h) {
    k.middleCols(static_cast<Eigen::Index>(h) * head_dim + nope, n_rot) = rope_key;
  }
}

}  // namespace

void attention_block(Kernels& kernels, const Model& model, int il, const RowMatrix& x, int pos0,
                     const RopeParams& rope, RowMatrix& k_cache, RowMatrix& v_cache,
                     RowMatrix& out) {
  const LayerWeights& layer = model.layer(il);
  const Eigen::Index n = x.rows();
  RowMatrix q, k, v, attended;
  if (model.architecture().attention == AttentionKind::LatentMultiHead) {
    latent_qkv(kernels, model, layer, x, pos0, rope, q, k, v);
  } else {
    standard_qkv(kernels, model, il, x, pos0, rope, q, k, v);
  }
  k_cache.middleRows(pos0, n) = k;
  v_cache.middleRows(pos0, n) = v;
  const ModelConfig& config = model.config();
  AttentionExtras extras;
  if (il < static_cast<int>(config.attention_window.size()))
    extras.window = config.attention_window[static_cast<size_t>(il)];
  if (il < static_cast<int>(config.attention_chunk.size()))
    extras.chunk = config.attention_chunk[static_cast<size_t>(il)];
  extras.softcap = config.attn_softcap;
  std::vector<float> sink_storage;
  if (layer.attn_sinks != nullptr) extras.sinks = vector_f32(*layer.attn_sinks, sink_storage);
  attention(kernels, config, q, k_cache, v_cache, pos0, attended, extras);
  kernels.matmul(WeightMatrix::of(*layer.attn_output), attended, out);
  std::vector<float> storage;
  add_bias(layer.attn_output_bias, out, storage);
  if (layer.attn_output_norm != nullptr) {  // grok: the output normed before its residual add
    RowMatrix normed;
    rms_norm(out, vector_f32(*layer.attn_output_norm, storage), config.rms_eps, normed);
    out = std::move(normed);
  }
}

}  // namespace moe::cpu
