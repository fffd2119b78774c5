#pragma once
// A loaded MoE transformer: validated hyper-parameters and views of its weights in the mapped
// GGUF file. Immutable and shared (std::shared_ptr<const Model>) by sessions and backends.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "moe/arch.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"

namespace moe {

struct ModelConfig {
  std::string architecture;  // general.architecture
  std::string name;          // general.name (empty if absent)
  int n_vocab = 0;           // rows of token_embd
  int n_ctx_train = 0;       // context_length
  int n_embd = 0;            // embedding_length
  int n_layer = 0;           // block_count
  int n_head = 0;            // attention.head_count
  int n_head_kv = 0;         // attention.head_count_kv (default n_head)
  int head_dim = 0;          // attention.key_length (default n_embd / n_head)
  int head_dim_v = 0;        // attention.value_length (default head_dim)
  int n_rot = 0;             // rope.dimension_count (default head_dim): leading dims rotated
  int n_ff = 0;              // feed_forward_length: width of dense FFN layers
  int n_ff_exp = 0;          // expert_feed_forward_length (default n_ff): width of each expert
  int n_expert = 0;          // expert_count (0: dense model)
  int n_expert_used = 0;     // expert_used_count (top-k)
  float rms_eps = 1e-5f;     // attention.layer_norm_rms_epsilon
  float rope_base = 10000;   // rope.freq_base
  std::vector<bool> layer_is_moe;  // per layer: routed experts (true) or dense FFN (false)

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
};

// Parameters (weights, not bytes). `active_per_token` counts what one token's forward pass
// touches: everything except the experts top-k does not choose.
struct ParameterCounts {
  uint64_t embedding = 0;  // token_embd
  uint64_t output = 0;     // output.weight (0 when tied to token_embd)
  uint64_t attention = 0;  // q, k, v, output projections and their biases
  uint64_t norms = 0;      // every norm weight
  uint64_t router = 0;     // ffn_gate_inp of every MoE layer
  uint64_t experts = 0;    // all routed experts of every MoE layer
  uint64_t dense_ffn = 0;  // FFNs of dense layers
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
  std::vector<LayerWeights> layers_;
};

}  // namespace moe
