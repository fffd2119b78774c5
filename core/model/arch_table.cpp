// The table of supported architectures. Each entry is data; hooks only where data cannot say it.
#include <string>
#include <vector>

#include "moe/arch.hpp"
#include "moe/error.hpp"
#include "recurrent_architectures.hpp"

namespace moe {

namespace {

// Mixtral-style llama: RMSNorm, adjacent-pair RoPE, softmax router, renormalized top-k.
// Dense and MoE layers may be mixed (a layer without a router is dense).
Architecture make_llama() {
  Architecture arch;
  arch.name = "llama";
  arch.key_prefix = "llama";
  arch.norm = NormKind::Rms;
  arch.rope = RopePairing::Adjacent;
  arch.gating = GatingFunction::Softmax;
  arch.renormalize_top_k = true;
  return arch;
}

// OLMoE: QK-norm over the whole projection, split-halves RoPE, top-k weights not renormalized.
Architecture make_olmoe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "olmoe";
  arch.rope = RopePairing::SplitHalves;
  arch.renormalize_top_k = false;
  arch.qk_norm = QkNorm::WholeProjection;
  return arch;
}

// Qwen1.5-MoE / Qwen2-MoE: q, k, v biases, no renormalization, one shared expert behind a
// sigmoid gate of its own.
Architecture make_qwen2moe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "qwen2moe";
  arch.rope = RopePairing::SplitHalves;
  arch.renormalize_top_k = false;
  arch.attention_biases_required = true;
  arch.attention_output_bias = false;
  arch.shared_experts = SharedExperts::SigmoidGated;
  arch.expert_width_from_top_k = true;
  return arch;
}

// Qwen3-MoE: per-head QK-norm, renormalized top-k, no shared expert.
Architecture make_qwen3moe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "qwen3moe";
  arch.rope = RopePairing::SplitHalves;
  arch.qk_norm = QkNorm::PerHead;
  arch.expert_width_from_top_k = true;
  return arch;
}

// Granite 3 MoE: llama plus embedding / residual / attention / logit multipliers (read by the
// model's config reader for every architecture; only granite files carry them).
Architecture make_granitemoe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "granitemoe";
  arch.granite_multipliers = true;
  return arch;
}

// DeepSeek-V2 (and V3-style files): multi-head latent attention, leading dense layers, shared
// experts always on; gating function, weight normalization and scale come from keys.
Architecture make_deepseek2() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "deepseek2";
  arch.renormalize_top_k = false;  // expert_weights_norm, default false
  arch.attention = AttentionKind::LatentMultiHead;
  arch.shared_experts = SharedExperts::Always;
  arch.dense_layers_from_key = true;
  arch.routing_from_keys = true;
  return arch;
}

// Phi-3.5-MoE as llama.cpp runs it: RMSNorm with bias, biases on every projection and on the
// logits, softmax top-2 renormalized (llama.cpp's stand-in for the sparse mixer).
Architecture make_phimoe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "phimoe";
  arch.norm = NormKind::RmsWithBias;
  arch.rope = RopePairing::SplitHalves;
  arch.attention_biases_required = true;
  arch.output_bias = true;
  arch.output_optional = false;
  return arch;
}

// gpt-oss (OpenAI's open-weight MoE), as llama.cpp's openai-moe graph computes it: biases on
// the attention projections, the router and every expert, attention sinks, sliding-window
// layers alternating with full ones, split-halves RoPE (YaRN in the released files), the
// clamped SwiGLU, the FFN pre-norm stored as post_attention_norm, an untied output.
Architecture make_gpt_oss() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "gpt-oss";
  arch.rope = RopePairing::SplitHalves;
  arch.tensors.ffn_norm = "blk.{layer}.post_attention_norm.weight";
  arch.attention_output_bias_required = true;
  arch.openai_moe = true;
  arch.expert_activation = ExpertActivation::ClampedSwiGlu;
  arch.output_optional = false;
  return arch;
}

// GLM-4.5 / 4.6: leading dense layers, sigmoid gates chosen with a required selection bias,
// weight normalization and scale from keys, shared experts always on, partial split-halves RoPE
// (rope.dimension_count of each head), optional per-head q/k norms and q/k/v biases, the FFN
// pre-norm stored as post_attention_norm, trailing NextN blocks skipped.
Architecture make_glm4moe() {
  Architecture arch = make_deepseek2();  // its routing, dense lead and shared experts by key
  arch.name = arch.key_prefix = "glm4moe";
  arch.attention = AttentionKind::Standard;
  arch.rope = RopePairing::SplitHalves;
  arch.tensors.ffn_norm = "blk.{layer}.post_attention_norm.weight";
  arch.gating = GatingFunction::Sigmoid;  // without expert_gating_func
  arch.qk_norm = QkNorm::PerHead;
  arch.qk_norm_optional = true;
  arch.attention_output_bias = false;
  arch.shared_count_required = true;
  arch.selection_bias_required = true;
  arch.skips_nextn_layers = true;
  return arch;
}

// DBRX: LayerNorm without bias, one fused q/k/v projection clamped to +-clamp_kqv, split-halves
// RoPE, softmax top-k renormalized, the FFN pre-norm stored as attn_output_norm, no biases.
Architecture make_dbrx() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "dbrx";
  arch.norm = NormKind::Layer;
  arch.rope = RopePairing::SplitHalves;
  arch.tensors.ffn_norm = "blk.{layer}.attn_output_norm.weight";
  arch.fused_qkv_clamped = true;
  arch.output_optional = false;
  return arch;
}

// Hunyuan-A13B: per-head q/k RMSNorm after RoPE, split-halves RoPE, softmax top-k renormalized,
// one ungated shared expert in every layer.
Architecture make_hunyuan_moe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "hunyuan-moe";
  arch.rope = RopePairing::SplitHalves;
  arch.qk_norm = QkNorm::PerHead;
  arch.shared_experts = SharedExperts::Always;
  arch.hunyuan_moe = true;
  return arch;
}

// Llama 4 (Scout, Maverick): dense and MoE layers interleaved, sigmoid top-k by the router
// logits with the gate weight on the expert's input, one shared expert, NoPE every 4th layer,
// chunked attention and L2 q/k norms elsewhere (see Architecture::llama4).
Architecture make_llama4() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "llama4";
  arch.gating = GatingFunction::Sigmoid;
  arch.renormalize_top_k = false;
  arch.shared_experts = SharedExperts::Always;
  arch.interleaved_moe_layers = true;
  arch.llama4 = true;
  return arch;
}

// Grok-1 (and Grok-2 files) as llama.cpp's grok graph computes them (see Architecture::grok).
Architecture make_grok() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "grok";
  arch.rope = RopePairing::SplitHalves;
  arch.expert_activation = ExpertActivation::GeGlu;
  arch.grok = true;
  return arch;
}

// ERNIE 4.5 MoE (21B-A3B, 300B-A47B): leading dense layers, softmax top-k renormalized, chosen
// with an optional exp_probs_b selection bias, shared experts as one FFN of
// expert_shared_feed_forward_length, adjacent-pair RoPE.
Architecture make_ernie4_5_moe() {
  Architecture arch = make_llama();
  arch.name = arch.key_prefix = "ernie4_5-moe";
  // llama.cpp b8967 loads an attn_output.bias but its graph never adds it: nor do we.
  arch.tensors.attn_output_bias.clear();
  arch.shared_experts = SharedExperts::Always;
  arch.shared_width = Architecture::SharedWidth::KeyAlone;
  arch.dense_layers_from_key = true;
  arch.interleaved_moe_layers = true;
  arch.selection_bias_optional = true;
  return arch;
}

// Ling / Ring 2.0 (bailingmoe2): GLM-4.5's routing (gating function required, optional
// selection bias, group-limited routing, normalized and scaled weights by key), leading dense
// layers, shared experts, one fused q/k/v projection with per-head q/k norms before partial
// split-halves RoPE, trailing NextN blocks skipped.
Architecture make_bailingmoe2() {
  Architecture arch = make_glm4moe();
  arch.name = arch.key_prefix = "bailingmoe2";
  arch.tensors.ffn_norm = TensorNames{}.ffn_norm;
  arch.qk_norm_optional = false;
  arch.selection_bias_required = false;
  arch.gating_func_required = true;
  arch.shared_width = Architecture::SharedWidth::KeyTimesCount;
  arch.output_optional = false;
  return arch;
}

const std::vector<Architecture>& table() {
  static const std::vector<Architecture> architectures = {
      make_llama(),       make_olmoe(),  make_qwen2moe(), make_qwen3moe(),     make_granitemoe(),
      make_deepseek2(),   make_phimoe(), make_gpt_oss(),  make_glm4moe(),      make_dbrx(),
      make_hunyuan_moe(), make_llama4(), make_grok(),     make_ernie4_5_moe(), make_bailingmoe2()};
  return architectures;
}

}  // namespace

std::string layer_tensor_name(std::string_view pattern, int layer) {
  static constexpr std::string_view placeholder = "{layer}";
  std::string name(pattern);
  const size_t at = name.find(placeholder);
  if (at != std::string::npos) name.replace(at, placeholder.size(), std::to_string(layer));
  return name;
}

std::string Architecture::key(std::string_view name) const {
  std::string full = key_prefix;
  full += '.';
  full += name;
  return full;
}

const Architecture& find_architecture(std::string_view name) {
  for (const Architecture& arch : table()) {
    if (arch.name == name) return arch;
  }
  std::string supported;
  for (const std::string& known : supported_architectures()) {
    if (!supported.empty()) supported += ", ";
    supported += known;
  }
  const std::string recurrent = recurrent_architecture_reason(name);
  if (!recurrent.empty()) {
    throw Error("unsupported architecture: " + recurrent + " (supported: " + supported + ")");
  }
  throw Error("unsupported architecture '" + std::string(name) + "' (supported: " + supported +
              ")");
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> names;
  for (const Architecture& arch : table()) names.push_back(arch.name);
  return names;
}

}  // namespace moe
