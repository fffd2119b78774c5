#pragma once
// Generates a small, randomly initialized MoE model of any supported architecture as a GGUF file
// (the tensor names, keys and extras llama.cpp expects for it), with a byte-level "gpt2"
// tokenizer so the CLI can run prompts on it. Used by tests and the demo.
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"

namespace moe {

struct RandomModelSpec {
  std::string name = "moescope-random";
  int n_vocab = 258;  // >= 258 with the tokenizer: 256 byte tokens, <s>, </s>, then unused ones
  int n_embd = 64;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 128;     // dense layers
  int n_ff_exp = 64;  // each expert
  int n_expert = 8;
  int n_expert_used = 2;
  std::set<int> dense_layers;            // layers with a dense FFN instead of experts
  GgmlType weight_type = GgmlType::F32;  // matrices; norms and biases stay F32
  uint64_t seed = 1;
  int n_ctx = 512;
  float rms_eps = 1e-5f;
  float rope_base = 10000;
  bool tie_output = false;        // omit output.weight (logits use token_embd)
  bool attention_biases = false;  // add attn_{q,k,v,output}.bias
  bool include_tokenizer = true;

  // general.architecture: llama, olmoe, qwen2moe, qwen3moe, granitemoe, deepseek2, phimoe,
  // gpt-oss, glm4moe, dbrx, hunyuan-moe, llama4, grok, ernie4_5-moe, bailingmoe2. The
  // architecture brings its own tensors: olmoe / qwen3moe QK-norms, qwen2moe q/k/v biases and
  // a gated shared expert, phimoe norm / projection / output biases, deepseek2 latent attention.
  std::string architecture = "llama";
  int head_dim = 0;    // attention.key_length (0: n_embd / n_head); deepseek2: nope + rope part
  int head_dim_v = 0;  // deepseek2 attention.value_length (0: head_dim)
  int n_rot = 0;       // rope.dimension_count (0: head_dim; deepseek2: the rope part, required)
  int n_ff_shexp = 0;  // qwen2moe shared expert width (0: n_ff_exp)
  // deepseek2: leading dense layers are `dense_layers` (must be 0 .. d-1).
  int n_expert_shared = 1;           // deepseek2 expert_shared_count
  int q_lora_rank = 0;               // deepseek2: 0 = plain attn_q (V2-Lite)
  int kv_lora_rank = 32;             // deepseek2
  bool split_kv_b = false;           // deepseek2: newer layout (attn_k_b / attn_v_b, *_mla keys)
  bool sigmoid_gating = false;       // deepseek2, glm4moe expert_gating_func 2 (else 1)
  bool selection_bias = false;       // deepseek2 exp_probs_b.bias per MoE layer
  bool expert_weights_norm = false;  // deepseek2
  float expert_weights_scale = 1;    // deepseek2
  // Group-limited routing keys expert_group_count / expert_group_used_count (0: not written).
  int n_expert_groups = 0;
  int n_expert_groups_used = 0;
  // One fused attn_qkv.weight (and attn_qkv.bias with biases) instead of attn_q / attn_k /
  // attn_v, as some conversions write them; not for deepseek2.
  bool fused_qkv = false;
  // gpt-oss: attention.sliding_window (its even layers are windowed) and rope.freq_base_swa
  // (0: not written).
  int sliding_window = 4;
  float rope_base_swa = 0;
  // glm4moe: the optional per-head q/k norms. Its gating (sigmoid_gating), leading dense
  // layers, shared experts (n_expert_shared), weight norm and scale are the deepseek2 fields;
  // exp_probs_b is always written.
  bool qk_norm = false;
  // dbrx: attention.clamp_kqv (its norms' epsilon is rms_eps, its attn_qkv always fused).
  float clamp_kqv = 8;
  // llama4, ernie4_5-moe: interleave_moe_layer_step; `dense_layers` must be the layers it makes
  // dense (with ernie4_5-moe's leading dense layers first).
  int moe_layer_step = 1;
  // grok: a dense FFN of width n_ff beside the experts in every layer (Grok-2) and
  // final_logit_softcapping (0: not written); its other multipliers are llama.cpp's defaults.
  bool dense_ffn_beside_experts = false;
  float final_softcap = 0;
  // RoPE scaling: "" (none), "linear", "yarn" or "longrope" (with rope_factors_{long,short}).
  std::string rope_scaling;
  float rope_scaling_factor = 1;
  int rope_n_ctx_orig = 0;     // 0: n_ctx
  float rope_attn_factor = 0;  // 0: key not written
  float yarn_log_multiplier = 0;
  // granitemoe multipliers (written for granitemoe only).
  float embedding_scale = 12;
  float residual_scale = 0.22f;
  float logit_scale = 6;
  float attention_scale = 0.015625f;
};

// Builds the file in memory. Throws moe::Error for an inconsistent spec (e.g. n_embd not a
// multiple of n_head, rows not a multiple of 32 for Q8_0, n_vocab < 258 with the tokenizer).
gguf::GgufWriter build_random_model(const RandomModelSpec& spec);
// build_random_model(spec).write(path).
void write_random_model(const RandomModelSpec& spec, const std::filesystem::path& path);

}  // namespace moe
