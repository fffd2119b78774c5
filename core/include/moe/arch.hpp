#pragma once
// The architecture table: what differs between the MoE architectures we load, held as data; the
// tensor schema (moe/tensor_schema.hpp) derives each model's tensors from an entry. Adding one is
// an entry in core/model/arch_table.cpp plus, where it computes differently, a hook or enum value.
#include <string>
#include <string_view>
#include <vector>

namespace moe {

namespace gguf {
class GgufFile;
}
struct ModelConfig;

enum class NormKind {
  Rms,          // x / sqrt(mean(x^2) + eps) * weight
  RmsWithBias,  // the same plus a bias (phimoe, as llama.cpp computes it: norm tensors .bias)
  Layer,        // (x - mean) / sqrt(var + eps) * weight, no bias (dbrx;
                // attention.layer_norm_epsilon)
};

// Which elements of a head vector RoPE rotates together.
enum class RopePairing {
  Adjacent,     // (2i, 2i+1): llama.cpp's "normal" mode (llama, granitemoe, deepseek2)
  SplitHalves,  // (i, i + n_rot/2): llama.cpp's "neox" mode (olmoe, qwen2moe, qwen3moe, phimoe)
};

// How router logits become the scores top-k chooses from.
enum class GatingFunction {
  Softmax,
  Sigmoid,
};

// RMSNorm of the queries and keys before RoPE.
enum class QkNorm {
  None,
  WholeProjection,  // over the whole q / k vector (olmoe: attn_q_norm ne [n_head * head_dim])
  PerHead,          // over each head's vector (qwen3moe: attn_q_norm ne [head_dim])
};

// How the attention projections are computed.
enum class AttentionKind {
  Standard,         // q, k, v projections (optional biases), grouped-query heads
  LatentMultiHead,  // deepseek2 MLA: low-rank q (optional) and kv, per-head rope/no-rope split
};

// Experts every token goes through besides the routed ones.
enum class SharedExperts {
  None,
  SigmoidGated,  // qwen2moe: one shared SwiGLU scaled by sigmoid(ffn_gate_inp_shexp . x)
  Always,        // deepseek2: expert_shared_count experts as one SwiGLU, weight 1
};

// What each routed expert computes from its gate and up projections.
enum class ExpertActivation {
  SwiGlu,         // silu(gate) * up
  ClampedSwiGlu,  // gpt-oss: g = min(gate, 7), u = clamp(up, -7, 7), g * sigmoid(1.702 g) * (u + 1)
  // grok: gelu(gate) * up with ggml's CPU GELU (the tanh form looked up by the f16 value of the
  // input and rounded to f16; 0 below -10, the identity above 10), as llama.cpp computes it.
  GeGlu,
};

// GGUF tensor names. Per-layer names contain "{layer}", replaced by the block index.
// An empty name means the architecture never has that tensor.
struct TensorNames {
  std::string token_embd = "token_embd.weight";
  std::string output_norm = "output_norm.weight";
  std::string output = "output.weight";  // optional: tied to token_embd when absent

  std::string attn_norm = "blk.{layer}.attn_norm.weight";
  std::string attn_q = "blk.{layer}.attn_q.weight";
  std::string attn_k = "blk.{layer}.attn_k.weight";
  std::string attn_v = "blk.{layer}.attn_v.weight";
  std::string attn_output = "blk.{layer}.attn_output.weight";
  std::string attn_q_bias = "blk.{layer}.attn_q.bias";  // optional biases
  std::string attn_k_bias = "blk.{layer}.attn_k.bias";
  std::string attn_v_bias = "blk.{layer}.attn_v.bias";
  std::string attn_output_bias = "blk.{layer}.attn_output.bias";
  // Instead of attn_q / attn_k / attn_v, some files have one fused projection (rows q, then k,
  // then v; optional bias likewise), which llama.cpp accepts for these architectures too. The
  // model splits it into row views, so backends see three projections either way.
  std::string attn_qkv = "blk.{layer}.attn_qkv.weight";
  std::string attn_qkv_bias = "blk.{layer}.attn_qkv.bias";

  std::string ffn_norm = "blk.{layer}.ffn_norm.weight";
  // MoE layer
  std::string ffn_gate_inp = "blk.{layer}.ffn_gate_inp.weight";  // the router
  std::string ffn_gate_exps = "blk.{layer}.ffn_gate_exps.weight";
  std::string ffn_up_exps = "blk.{layer}.ffn_up_exps.weight";
  std::string ffn_down_exps = "blk.{layer}.ffn_down_exps.weight";
  // Dense layer
  std::string ffn_gate = "blk.{layer}.ffn_gate.weight";
  std::string ffn_up = "blk.{layer}.ffn_up.weight";
  std::string ffn_down = "blk.{layer}.ffn_down.weight";

  // Used only by the architectures whose entry says so (see Architecture's fields).
  std::string attn_norm_bias = "blk.{layer}.attn_norm.bias";
  std::string ffn_norm_bias = "blk.{layer}.ffn_norm.bias";
  std::string output_norm_bias = "output_norm.bias";
  std::string output_bias = "output.bias";
  std::string attn_q_norm = "blk.{layer}.attn_q_norm.weight";
  std::string attn_k_norm = "blk.{layer}.attn_k_norm.weight";
  // Shared experts.
  std::string ffn_gate_inp_shexp = "blk.{layer}.ffn_gate_inp_shexp.weight";
  std::string ffn_gate_shexp = "blk.{layer}.ffn_gate_shexp.weight";
  std::string ffn_up_shexp = "blk.{layer}.ffn_up_shexp.weight";
  std::string ffn_down_shexp = "blk.{layer}.ffn_down_shexp.weight";
  // Per-expert selection bias (DeepSeek-V3 style): added to the scores for choosing only.
  std::string exp_probs_b = "blk.{layer}.exp_probs_b.bias";
  // Multi-head latent attention (deepseek2).
  std::string attn_q_a = "blk.{layer}.attn_q_a.weight";
  std::string attn_q_a_norm = "blk.{layer}.attn_q_a_norm.weight";
  std::string attn_q_b = "blk.{layer}.attn_q_b.weight";
  std::string attn_kv_a_mqa = "blk.{layer}.attn_kv_a_mqa.weight";
  std::string attn_kv_a_norm = "blk.{layer}.attn_kv_a_norm.weight";
  std::string attn_kv_b = "blk.{layer}.attn_kv_b.weight";
  std::string attn_k_b = "blk.{layer}.attn_k_b.weight";  // newer files: attn_kv_b split per head
  std::string attn_v_b = "blk.{layer}.attn_v_b.weight";
  // gpt-oss: per-head attention sinks, the router's bias and the experts' biases.
  std::string attn_sinks = "blk.{layer}.attn_sinks.weight";
  // grok: norms of the attention output and of the FFN output before their residual adds.
  std::string attn_output_norm = "blk.{layer}.attn_output_norm.weight";
  std::string ffn_post_norm = "blk.{layer}.layer_output_norm.weight";
  std::string ffn_post_norm_alt = "blk.{layer}.post_ffw_norm.weight";
  std::string ffn_gate_inp_bias = "blk.{layer}.ffn_gate_inp.bias";
  std::string ffn_gate_exps_bias = "blk.{layer}.ffn_gate_exps.bias";
  std::string ffn_up_exps_bias = "blk.{layer}.ffn_up_exps.bias";
  std::string ffn_down_exps_bias = "blk.{layer}.ffn_down_exps.bias";
  std::string rope_freqs = "rope_freqs.weight";  // llama 3 frequency factors
  // LongRoPE frequency factors (phimoe), one set for short and one for long contexts.
  std::string rope_factors_long = "rope_factors_long.weight";
  std::string rope_factors_short = "rope_factors_short.weight";
};

// "blk.{layer}.attn_q.weight", 3 -> "blk.3.attn_q.weight".
std::string layer_tensor_name(std::string_view pattern, int layer);

struct Architecture {
  std::string name;        // value of general.architecture
  std::string key_prefix;  // hyper-parameter keys are "<key_prefix>.<key>"
  TensorNames tensors;
  NormKind norm = NormKind::Rms;
  RopePairing rope = RopePairing::Adjacent;
  // Routing defaults; deepseek2 files can override them with keys (ModelConfig holds the
  // values a model really uses).
  GatingFunction gating = GatingFunction::Softmax;
  bool renormalize_top_k = true;  // gate weights = chosen scores / their sum (Mixtral rule)
  QkNorm qk_norm = QkNorm::None;
  AttentionKind attention = AttentionKind::Standard;
  SharedExperts shared_experts = SharedExperts::None;
  bool attention_biases_required = false;  // q, k, v biases must be present (qwen2moe, phimoe)
  // Files with attention biases have one on the output projection too (not qwen2moe's); the
  // random model generator writes it so.
  bool attention_output_bias = true;
  bool output_bias = false;                // output.bias added to the logits (phimoe)
  bool output_optional = true;             // output.weight absent = tied to token_embd
  // Without expert_feed_forward_length the experts' width is feed_forward_length / top-k
  // (qwen2moe, qwen3moe, as llama.cpp reads them); otherwise feed_forward_length.
  bool expert_width_from_top_k = false;
  // Leading dense layers are given by key leading_dense_block_count (deepseek2); otherwise a
  // layer is MoE exactly when it has a router tensor.
  bool dense_layers_from_key = false;
  // A layer (past any leading dense ones) is MoE iff (il + 1) % interleave_moe_layer_step == 0,
  // the key required (llama4, ernie4_5-moe).
  bool interleaved_moe_layers = false;
  // Reads expert_gating_func, expert_weights_norm and expert_weights_scale (deepseek2,
  // glm4moe); without expert_gating_func the gating is `gating`.
  bool routing_from_keys = false;
  // exp_probs_b must be present in every MoE layer, expert_shared_count must be given (glm4moe).
  bool selection_bias_required = false;
  bool shared_count_required = false;
  // exp_probs_b may be present although the routing is not read from keys (ernie4_5-moe).
  bool selection_bias_optional = false;
  // expert_gating_func must be given (bailingmoe2).
  bool gating_func_required = false;
  // The shared experts' width: expert_shared_feed_forward_length (else the experts'), times
  // expert_shared_count (bailingmoe2); or expert_shared_feed_forward_length alone, no shared
  // expert without it (ernie4_5-moe). Otherwise the experts' width times the count.
  enum class SharedWidth { ExpertTimesCount, KeyTimesCount, KeyAlone };
  SharedWidth shared_width = SharedWidth::ExpertTimesCount;
  // Reads embedding_scale, residual_scale, logit_scale and attention.scale (granitemoe).
  bool granite_multipliers = false;
  // The q/k norms (qk_norm) may be absent (glm4moe: only some GLM-4.5 files have them).
  bool qk_norm_optional = false;
  // attn_output.bias must be present (gpt-oss).
  bool attention_output_bias_required = false;
  // gpt-oss: the router adds ffn_gate_inp.bias to its logits, top-k runs on the logits and the
  // weights are the softmax over the k chosen logits (equal to the softmax over all experts
  // renormalized over the chosen, which is how the router computes it); every expert has
  // biases on its gate, up and down projections; attention has per-head sinks, layers
  // alternate between a sliding window (attention.sliding_window) and full attention, and the
  // head size is rope.dimension_count.
  bool openai_moe = false;
  ExpertActivation expert_activation = ExpertActivation::SwiGlu;
  // dbrx: one fused attn_qkv (never separate q, k, v), its output clamped to
  // [-attention.clamp_kqv, attention.clamp_kqv]; experts as wide as feed_forward_length.
  bool fused_qkv_clamped = false;
  // hunyuan-moe: the per-head q/k norms come after RoPE; one shared expert always on, as wide as
  // expert_shared_feed_forward_length (else feed_forward_length); the routed experts as wide as
  // feed_forward_length (expert_feed_forward_length is required but unused, as in llama.cpp).
  bool hunyuan_moe = false;
  // Llama 4: MoE layers interleaved with dense ones (interleaved_moe_layers); a sigmoid gate per
  // chosen expert (top-k by the router logits), its weight multiplying the expert's input rather
  // than its output; one shared expert as wide as the routed ones in every MoE layer; every 4th
  // layer without RoPE (NoPE, its queries temperature-tuned by position), the others in chunks of
  // 8192 positions and, unless the model has 128 experts, with q and k L2-normed per head after
  // RoPE; rope.freq_base_swa for the chunked layers.
  bool llama4 = false;
  // Grok-1 as llama.cpp's "grok" graph computes it: embeddings x embedding_scale, attention
  // scores x attention.output_scale then soft-capped to +-attn_logit_softcapping (c tanh(s / c)),
  // RMSNorm of the attention output and of the FFN output before each residual add, GeGLU
  // experts (softmax top-k renormalized), an optional dense GeGLU FFN beside the experts
  // (their sum x sqrt(2)/2: Grok-2), logits x logit_scale and, where given, soft-capped to
  // +-final_logit_softcapping. router_logit_softcapping is read by llama.cpp but not applied.
  bool grok = false;
  // Skips the last nextn_predict_layers blocks (multi-token-prediction heads llama.cpp loads
  // but never runs: glm4moe).
  bool skips_nextn_layers = false;

  // Hooks for what does not fit in data. nullptr = nothing to do.
  // Reads hyper-parameters only this architecture has, after the common ones are read.
  void (*read_extra_hparams)(const gguf::GgufFile& file, const Architecture& arch,
                             ModelConfig& config) = nullptr;

  // "llama.expert_count" for key "expert_count".
  std::string key(std::string_view name) const;
};

// The entry for `name`; throws moe::Error naming it and listing the supported ones.
const Architecture& find_architecture(std::string_view name);
// Names of every architecture in the table.
std::vector<std::string> supported_architectures();

}  // namespace moe
