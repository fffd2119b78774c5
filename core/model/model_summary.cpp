// Sentences describing what a model computes beyond the common transformer: routing rule,
// shared experts, attention kind, RoPE. Views say "always on" for shared experts instead of
// hiding them.
#include <cmath>
#include <sstream>

#include "moe/model.hpp"

namespace moe {

namespace {

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

std::string routing_summary(const ModelConfig& c) {
  if (c.n_expert == 0) return "no experts (dense model)";
  std::string text;
  if (c.softmax_over_chosen) {
    // gpt-oss: the same numbers as a renormalized softmax, said as the model card says it.
    const std::string k = std::to_string(c.n_expert_used);
    text = "top-" + k + " of " + std::to_string(c.n_expert) +
           " by router logits (with the router's bias), weights a softmax over the " + k +
           " chosen; experts: clamped SwiGLU with biases";
    return text;
  }
  text = c.gating == GatingFunction::Sigmoid ? "sigmoid" : "softmax";
  text += ", top-" + std::to_string(c.n_expert_used) + " of " + std::to_string(c.n_expert);
  if (c.expert_input_weighted) {
    // llama4: the same choice as by the sigmoid scores, said as llama.cpp computes it.
    text += " by router logits, the sigmoid of the chosen logit multiplying the expert's input";
  }
  if (c.n_expert_groups > 1) {
    text += " within the best " + std::to_string(c.n_expert_groups_used) + " of " +
            std::to_string(c.n_expert_groups) + " groups";
  }
  if (c.has_selection_bias) {
    text += c.n_expert_groups > 1 ? ", " : " ";
    text += "chosen with a per-expert selection bias";
  }
  text += c.normalize_expert_weights ? ", weights renormalized" : ", weights not renormalized";
  if (c.expert_weights_scale != 1) text += ", x" + number(c.expert_weights_scale);
  if (c.expert_activation == ExpertActivation::GeGlu) text += "; experts: GeGLU";
  if (c.n_moe_layer_step > 1) {
    text += "; MoE in every " + std::to_string(c.n_moe_layer_step) + " layers, the others dense";
  }
  if (c.n_layer_dense_lead > 0) {
    text += "; first " + std::to_string(c.n_layer_dense_lead) + " layer" +
            (c.n_layer_dense_lead == 1 ? "" : "s") + " dense";
  }
  return text;
}

std::string shared_experts_summary(const ModelConfig& c) {
  if (c.shared_experts == SharedExperts::None || c.n_expert_shared == 0) return "";
  std::string text = std::to_string(c.n_expert_shared) + " shared expert" +
                     (c.n_expert_shared == 1 ? "" : "s") + " (width " +
                     std::to_string(c.n_ff_shexp) + "), always on for every token";
  if (c.shared_experts == SharedExperts::SigmoidGated) text += ", scaled by its own sigmoid gate";
  return text;
}

std::string attention_summary(const ModelConfig& c, const Architecture& arch) {
  std::string text;
  if (arch.attention == AttentionKind::LatentMultiHead) {
    text = "multi-head latent attention (kv rank " + std::to_string(c.kv_lora_rank) + ", q rank " +
           (c.q_lora_rank > 0 ? std::to_string(c.q_lora_rank) : std::string("none")) + "), " +
           std::to_string(c.n_head) + " heads of " + std::to_string(c.head_dim) + " (" +
           std::to_string(c.n_rot) + " rotary), values " + std::to_string(c.head_dim_v);
  } else {
    text = std::to_string(c.n_head) + " heads of " + std::to_string(c.head_dim) + ", " +
           std::to_string(c.n_head_kv) + " key/value heads";
  }
  const bool qk_norm = !arch.qk_norm_optional || c.has_qk_norm;  // glm4moe: where present
  if (qk_norm && arch.qk_norm == QkNorm::WholeProjection) text += ", QK-norm over the projection";
  if (qk_norm && arch.qk_norm == QkNorm::PerHead) {
    text += arch.hunyuan_moe ? ", QK-norm per head after RoPE" : ", QK-norm per head";
  }
  if (arch.norm == NormKind::RmsWithBias) text += ", RMSNorm with bias";
  if (arch.norm == NormKind::Layer) text += ", LayerNorm";
  if (c.clamp_kqv > 0) text += ", q/k/v clamped to +-" + number(c.clamp_kqv);
  if (arch.openai_moe) text += ", attention sinks";
  int windowed = 0, window = 0;
  for (int w : c.attention_window) {
    if (w > 0) ++windowed, window = w;
  }
  if (windowed > 0) {
    text += ", sliding window of " + std::to_string(window) + " on " + std::to_string(windowed) +
            " of " + std::to_string(c.n_layer) + " layers";
  }
  int chunked = 0, chunk = 0, unrotated = 0;
  for (int size : c.attention_chunk) {
    if (size > 0) ++chunked, chunk = size;
  }
  for (bool rotates : c.layer_rotates) unrotated += rotates ? 0 : 1;
  if (chunked > 0) {
    text += ", chunked attention (" + std::to_string(chunk) + " positions) on " +
            std::to_string(chunked) + " of " + std::to_string(c.n_layer) + " layers";
  }
  if (unrotated > 0) {
    text += ", " + std::to_string(unrotated) + " NoPE layer" + (unrotated == 1 ? "" : "s") +
            (c.attn_temp_scale != 0 ? " (queries temperature-tuned past " +
                                          std::to_string(c.attn_temp_floor) + " positions)"
                                    : "");
  }
  if (c.qk_l2_norm) text += ", q/k L2-normed per head after RoPE";
  if (c.n_layer_nextn > 0) {
    text += "; " + std::to_string(c.n_layer_nextn) + " NextN block" +
            (c.n_layer_nextn == 1 ? "" : "s") + " skipped";
  }
  if (c.kq_scale != 0 &&
      std::abs(c.kq_scale * std::sqrt(static_cast<float>(c.head_dim)) - 1) > 1e-6f) {
    text += ", score scale " + number(c.kq_scale);
  }
  if (c.attn_softcap > 0) text += ", scores soft-capped at +-" + number(c.attn_softcap);
  if (arch.grok) text += ", attention and FFN outputs RMS-normed before the residual adds";
  if (c.final_softcap > 0) text += ", logits soft-capped at +-" + number(c.final_softcap);
  if (c.embedding_scale != 1 || c.residual_scale != 1 || c.logit_scale != 1) {
    text += "; embeddings x" + number(c.embedding_scale) + ", residual branches x" +
            number(c.residual_scale) + ", logits /" + number(c.logit_scale);
  }
  return text;
}

std::string rope_summary(const ModelConfig& c, const Architecture& arch) {
  std::string text = arch.rope == RopePairing::Adjacent ? "adjacent pairs" : "split halves";
  text += ", " + std::to_string(c.n_rot) + " dims";
  if (c.n_rot < c.head_dim && arch.attention == AttentionKind::Standard)
    text += " of " + std::to_string(c.head_dim);  // partial RoPE
  text += ", base " + number(c.rope_base);
  bool windowed = false;
  for (int w : c.attention_window) windowed = windowed || w > 0;
  if (windowed && c.rope_base_swa != c.rope_base)
    text += " (windowed layers " + number(c.rope_base_swa) + ")";
  switch (c.rope_scaling) {
    case RopeScaling::None:
      break;
    case RopeScaling::Linear:
      text += ", linear x" + number(1 / c.rope_freq_scale);
      break;
    case RopeScaling::Yarn:
      text +=
          ", YaRN x" + number(1 / c.rope_freq_scale) + " from " + std::to_string(c.rope_n_ctx_orig);
      break;
    case RopeScaling::LongRope:
      text += ", LongRoPE (original context " + std::to_string(c.rope_n_ctx_orig) + ")";
      break;
  }
  return text;
}

}  // namespace moe
