#pragma once
// The architecture table: what differs between the MoE architectures we load, held as data.
// Adding an architecture means adding one entry (core/model/arch_table.cpp) plus, where it
// really computes something differently, a hook or an enum value the backends implement.
#include <string>
#include <string_view>
#include <vector>

namespace moe {

namespace gguf {
class GgufFile;
}
struct ModelConfig;

enum class NormKind {
  Rms,  // x / sqrt(mean(x^2) + eps) * weight
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
};

// "blk.{layer}.attn_q.weight", 3 -> "blk.3.attn_q.weight".
std::string layer_tensor_name(std::string_view pattern, int layer);

struct Architecture {
  std::string name;        // value of general.architecture
  std::string key_prefix;  // hyper-parameter keys are "<key_prefix>.<key>"
  TensorNames tensors;
  NormKind norm = NormKind::Rms;
  RopePairing rope = RopePairing::Adjacent;
  GatingFunction gating = GatingFunction::Softmax;
  bool renormalize_top_k = true;  // gate weights = chosen scores / their sum (Mixtral rule)

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
