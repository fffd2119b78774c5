#pragma once
// A loaded MoE transformer: validated hyper-parameters and views of its weights in the mapped
// GGUF file. Immutable and shared (std::shared_ptr<const Model>) by sessions and backends.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "moe/arch.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"
#include "moe/tensor_schema.hpp"

namespace moe {

enum class RopeScaling {
  None,      // also "linear" with factor 1
  Linear,    // positions / factor
  Yarn,      // YaRN: interpolation blended with extrapolation per frequency, magnitude corrected
  LongRope,  // per-frequency factors from rope_factors_{short,long} (phimoe)
};
std::string rope_scaling_name(RopeScaling scaling);

struct ModelConfig;
// One line each for people (CLI info, the GUI's model panel), e.g.
// "softmax, top-6 of 64, weights not renormalized, x1.5";
// "2 shared experts (width 2816), always on for every token"; "" when the model has none;
// "multi-head latent attention (kv rank 512, q rank none), 16 heads";
// "adjacent pairs, 64 of 192 dims, base 10000, YaRN x40 from 4096".
std::string routing_summary(const ModelConfig& config);
std::string shared_experts_summary(const ModelConfig& config);
std::string attention_summary(const ModelConfig& config, const Architecture& arch);
std::string rope_summary(const ModelConfig& config, const Architecture& arch);

struct ModelConfig {
  std::string architecture;  // general.architecture
  std::string name;          // general.name (empty if absent)
  int n_vocab = 0;           // rows of token_embd
  int n_ctx_train = 0;       // context_length
  int n_embd = 0;            // embedding_length
  int n_layer = 0;           // block_count, less the skipped NextN blocks
  int n_layer_nextn = 0;     // glm4moe nextn_predict_layers: trailing blocks never run
  int n_head = 0;            // attention.head_count
  int n_head_kv = 0;         // attention.head_count_kv (default n_head)
  int head_dim = 0;          // attention.key_length (default n_embd / n_head)
  int head_dim_v = 0;        // attention.value_length (default head_dim)
  int n_rot = 0;             // rope.dimension_count (default head_dim): leading dims rotated
  int n_ff = 0;              // feed_forward_length: width of dense FFN layers
  int n_ff_exp = 0;          // expert_feed_forward_length (default n_ff): width of each expert
  int n_expert = 0;          // expert_count (0: dense model)
  int n_expert_used = 0;     // expert_used_count (top-k)
  float rms_eps = 1e-5f;     // attention.layer_norm_rms_epsilon (LayerNorm: layer_norm_epsilon)
  float clamp_kqv = 0;       // dbrx attention.clamp_kqv: q, k, v clamped to +-this (0: no clamp)
  float rope_base = 10000;   // rope.freq_base
  std::vector<bool> layer_is_moe;  // per layer: routed experts (true) or dense FFN (false)

  // Attention. kq_scale multiplies q.k: 1/sqrt(head_dim) unless the architecture says otherwise
  // (granitemoe attention.scale; deepseek2 mscale^2/sqrt(head_dim) under YaRN).
  float kq_scale = 0;
  int q_lora_rank = 0;   // deepseek2 attention.q_lora_rank (0: a plain attn_q)
  int kv_lora_rank = 0;  // deepseek2 attention.kv_lora_rank

  // Sliding-window attention (gpt-oss): per layer 0 (full causal attention) or the window W,
  // a query at p sees keys at p - W < p_k <= p. Empty: every layer is full.
  std::vector<int> attention_window;
  float rope_base_swa = 10000;  // rope.freq_base_swa: RoPE base of the windowed layers

  // Llama 4 (empty / 0 / false elsewhere). Per layer the attention chunk C (a query at p sees
  // keys from floor(p / C) * C to p; 0: all of them) and whether q and k are rotated (NoPE
  // layers are not: their queries are multiplied by 1 + attn_temp_scale *
  // log(floor((p + 1) / attn_temp_floor) + 1) instead). Empty vectors: every layer is full and
  // rotated.
  std::vector<int> attention_chunk;
  std::vector<bool> layer_rotates;
  float attn_temp_scale = 0;
  int attn_temp_floor = 0;
  bool qk_l2_norm = false;   // rotated layers: q and k RMS-normed per head (no weight) after RoPE
  int n_moe_layer_step = 0;  // interleave_moe_layer_step: every n-th layer is MoE
  bool expert_input_weighted = false;  // the gate weight scales the expert's input, not output

  // RoPE scaling (rope.scaling.*), applied as llama.cpp applies it.
  RopeScaling rope_scaling = RopeScaling::None;
  float rope_freq_scale = 1;      // 1 / rope.scaling.factor
  int rope_n_ctx_orig = 0;        // rope.scaling.original_context_length (default n_ctx_train)
  float rope_attn_factor = 1;     // rope.scaling.attn_factor: scales the rotated dimensions
  float yarn_log_multiplier = 0;  // rope.scaling.yarn_log_multiplier (deepseek2)

  // Multipliers (granitemoe): embeddings x embedding_scale, each attention / FFN output x
  // residual_scale before its residual add, logits / logit_scale.
  float embedding_scale = 1;
  float residual_scale = 1;
  float logit_scale = 1;
  // grok: attention scores soft-capped to +-attn_softcap, logits to +-final_softcap (0: none).
  float attn_softcap = 0;
  float final_softcap = 0;

  // Routing as this model does it (the architecture's defaults or the file's keys).
  GatingFunction gating = GatingFunction::Softmax;
  bool normalize_expert_weights = true;  // chosen weights divided by their sum
  float expert_weights_scale = 1;        // then multiplied by this (deepseek2)
  bool has_selection_bias = false;       // exp_probs_b: shifts the choice, not the weights
  // gpt-oss: logits + ffn_gate_inp.bias, weights the softmax over the k chosen logits (computed
  // as the softmax over all, renormalized over the chosen: the same numbers).
  bool softmax_over_chosen = false;
  ExpertActivation expert_activation = ExpertActivation::SwiGlu;
  // Group-limited routing (expert_group_count / expert_group_used_count, read for every
  // architecture as llama.cpp does): top-k only within the best n_expert_groups_used of
  // n_expert_groups groups of consecutive experts. 0 (or a file's 1): no limit.
  int n_expert_groups = 0;
  int n_expert_groups_used = 0;

  // Experts outside the router's choice: always on for every token of a MoE layer.
  SharedExperts shared_experts = SharedExperts::None;
  int n_expert_shared = 0;     // deepseek2 expert_shared_count; qwen2moe 1
  int n_ff_shexp = 0;          // width of the shared SwiGLU (all shared experts together)
  int n_layer_dense_lead = 0;  // deepseek2 leading_dense_block_count
  bool has_qk_norm = false;    // the layers have attn_q_norm / attn_k_norm

  std::vector<int> moe_layers() const;  // ids of the MoE layers, ascending
};

// What the forward pass reads from a layer. Optional tensors are nullptr when absent;
// a MoE layer has the ffn_*_exps + router set, a dense layer the ffn_gate/up/down set.
struct LayerWeights {
  const gguf::TensorInfo* attn_norm = nullptr;
  const gguf::TensorInfo* attn_q = nullptr;
  const gguf::TensorInfo* attn_k = nullptr;
  const gguf::TensorInfo* attn_v = nullptr;
  const gguf::TensorInfo* attn_output = nullptr;
  const gguf::TensorInfo* attn_q_bias = nullptr;
  const gguf::TensorInfo* attn_k_bias = nullptr;
  const gguf::TensorInfo* attn_v_bias = nullptr;
  const gguf::TensorInfo* attn_output_bias = nullptr;
  const gguf::TensorInfo* ffn_norm = nullptr;
  const gguf::TensorInfo* ffn_gate_inp = nullptr;
  const gguf::TensorInfo* ffn_gate_exps = nullptr;
  const gguf::TensorInfo* ffn_up_exps = nullptr;
  const gguf::TensorInfo* ffn_down_exps = nullptr;
  const gguf::TensorInfo* ffn_gate = nullptr;
  const gguf::TensorInfo* ffn_up = nullptr;
  const gguf::TensorInfo* ffn_down = nullptr;

  // Architecture-specific, nullptr where the architecture or the file has none.
  const gguf::TensorInfo* attn_norm_bias = nullptr;
  const gguf::TensorInfo* ffn_norm_bias = nullptr;
  const gguf::TensorInfo* attn_q_norm = nullptr;  // ne [n_head * head_dim] or [head_dim]
  const gguf::TensorInfo* attn_k_norm = nullptr;
  const gguf::TensorInfo* ffn_gate_inp_shexp = nullptr;  // qwen2moe shared expert's gate
  const gguf::TensorInfo* ffn_gate_shexp = nullptr;
  const gguf::TensorInfo* ffn_up_shexp = nullptr;
  const gguf::TensorInfo* ffn_down_shexp = nullptr;
  const gguf::TensorInfo* exp_probs_b = nullptr;  // selection bias, ne [n_expert]
  // gpt-oss
  const gguf::TensorInfo* attn_sinks = nullptr;          // ne [n_head]
  // grok: norms of the attention and FFN outputs (before the residual adds).
  const gguf::TensorInfo* attn_output_norm = nullptr;
  const gguf::TensorInfo* ffn_post_norm = nullptr;
  const gguf::TensorInfo* ffn_gate_inp_bias = nullptr;   // ne [n_expert]
  const gguf::TensorInfo* ffn_gate_exps_bias = nullptr;  // ne [n_ff_exp, n_expert]
  const gguf::TensorInfo* ffn_up_exps_bias = nullptr;    // ne [n_ff_exp, n_expert]
  const gguf::TensorInfo* ffn_down_exps_bias = nullptr;  // ne [n_embd, n_expert]
  // deepseek2 multi-head latent attention
  const gguf::TensorInfo* attn_q_a = nullptr;
  const gguf::TensorInfo* attn_q_a_norm = nullptr;
  const gguf::TensorInfo* attn_q_b = nullptr;
  const gguf::TensorInfo* attn_kv_a_mqa = nullptr;
  const gguf::TensorInfo* attn_kv_a_norm = nullptr;
  const gguf::TensorInfo* attn_kv_b = nullptr;  // or the split pair below
  const gguf::TensorInfo* attn_k_b = nullptr;   // ne [head_dim - n_rot, kv_lora_rank, n_head]
  const gguf::TensorInfo* attn_v_b = nullptr;   // ne [kv_lora_rank, head_dim_v, n_head]
};

// A tensor the model uses, with its role in the tensor schema (moe/tensor_schema.hpp). A fused
// attn_qkv appears as the q, k and v row views the backends see.
struct BoundTensor {
  TensorRole role = TensorRole::TokenEmbedding;
  int layer = -1;  // -1: not a layer's
  const gguf::TensorInfo* tensor = nullptr;
};

// Parameters (weights, not bytes). `active_per_token` counts what one token's forward pass
// touches: everything except the experts top-k does not choose.
struct ParameterCounts {
  uint64_t embedding = 0;       // token_embd
  uint64_t output = 0;          // output.weight (0 when tied to token_embd)
  uint64_t attention = 0;       // q, k, v, output projections and their biases
  uint64_t norms = 0;           // every norm weight
  uint64_t router = 0;          // ffn_gate_inp of every MoE layer
  uint64_t experts = 0;         // all routed experts of every MoE layer
  uint64_t dense_ffn = 0;       // FFNs of dense layers
  uint64_t shared_experts = 0;  // shared experts (and their gates) of every MoE layer
  uint64_t total = 0;
  uint64_t active_experts = 0;  // n_expert_used experts per MoE layer
  uint64_t active_per_token = 0;
};

struct TensorTypeUsage {
  GgmlType type = GgmlType::F32;
  int n_tensors = 0;
  uint64_t n_bytes = 0;
};

class Model {
public:
  // Maps `path` and validates it (see from_file). Throws moe::Error.
  static std::shared_ptr<const Model> load(const std::filesystem::path& path);
  // Takes ownership of an opened file and validates every hyper-parameter and tensor the
  // architecture needs: presence, compute-supported type and exact shape. Errors name the key
  // or tensor, the expected and the actual value.
  static std::shared_ptr<const Model> from_file(gguf::GgufFile file);

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  const Architecture& architecture() const { return *arch_; }
  const gguf::GgufFile& file() const { return *file_; }
  const std::filesystem::path& path() const { return path_; }  // empty if not from a path

  const gguf::TensorInfo& token_embd() const { return *token_embd_; }
  const gguf::TensorInfo& output_norm() const { return *output_norm_; }
  const gguf::TensorInfo& output() const { return *output_; }  // token_embd when tied
  bool output_tied() const { return output_ == token_embd_; }
  const LayerWeights& layer(int index) const { return layers_.at(static_cast<size_t>(index)); }
  const gguf::TensorInfo* output_norm_bias() const { return output_norm_bias_; }  // phimoe
  const gguf::TensorInfo* output_bias() const { return output_bias_; }            // phimoe
  // RoPE frequency factors for a context of n_ctx positions: rope_freqs (llama 3) if present,
  // else LongRoPE's long ones past the original context, short ones within it; nullptr if none.
  const gguf::TensorInfo* rope_factors(int n_ctx) const;
  // The layer's exp_probs_b as f32 (empty when it has none): added to the router's scores to
  // choose the experts, never to their weights.
  std::span<const float> selection_bias(int layer) const;
  // Every tensor the model uses, in file-schema order (the output head only when not tied).
  const std::vector<BoundTensor>& bound_tensors() const { return bound_; }

  ParameterCounts parameter_counts() const;
  // Tensor count and bytes per storage type, in type-id order.
  std::vector<TensorTypeUsage> tensor_types() const;

private:
  explicit Model(gguf::GgufFile file);
  void read_config();
  void bind_tensors();

  std::unique_ptr<gguf::GgufFile> file_;  // heap-held so tensor pointers never move
  std::filesystem::path path_;
  const Architecture* arch_ = nullptr;
  ModelConfig config_;
  const gguf::TensorInfo* token_embd_ = nullptr;
  const gguf::TensorInfo* output_norm_ = nullptr;
  const gguf::TensorInfo* output_ = nullptr;
  const gguf::TensorInfo* output_norm_bias_ = nullptr;
  const gguf::TensorInfo* output_bias_ = nullptr;
  const gguf::TensorInfo* rope_freqs_ = nullptr;
  const gguf::TensorInfo* rope_factors_long_ = nullptr;
  const gguf::TensorInfo* rope_factors_short_ = nullptr;
  std::vector<LayerWeights> layers_;
  std::vector<BoundTensor> bound_;
  std::vector<std::vector<float>> selection_bias_;  // per layer, empty when absent
  // Row views into fused attn_qkv tensors (a deque: the layers point at its elements).
  std::deque<gguf::TensorInfo> split_views_;
};

}  // namespace moe
