#pragma once
// The tensors of a model, written once per architecture and configuration: for each, its role,
// GGUF name, shape, kind and whether a file must have it. Model::bind_tensors checks a file
// against the schema, build_random_model writes it, and the trainer lays out its parameters by
// it, so the three cannot disagree. The names come from the architecture table (moe/arch.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "moe/arch.hpp"

namespace moe {

struct ModelConfig;

// What a tensor is for, whatever an architecture names it.
enum class TensorRole {
  TokenEmbedding,
  OutputNorm,
  OutputNormBias,
  Output,
  OutputBias,
  RopeFreqs,
  RopeFactorsLong,
  RopeFactorsShort,
  // Per layer: attention.
  AttnNorm,
  AttnNormBias,
  AttnQ,
  AttnK,
  AttnV,
  AttnQkv,  // q, k and v rows in one tensor
  AttnOutput,
  AttnQBias,
  AttnKBias,
  AttnVBias,
  AttnQkvBias,
  AttnOutputBias,
  AttnQNorm,
  AttnKNorm,
  AttnSinks,       // gpt-oss: one logit per head that takes part in the softmax without a value
  AttnOutputNorm,  // grok: RMSNorm of the attention output before its residual add
  // Multi-head latent attention.
  AttnQA,
  AttnQANorm,
  AttnQB,
  AttnKvAMqa,
  AttnKvANorm,
  AttnKvB,
  AttnKB,
  AttnVB,
  // Per layer: feed-forward.
  FfnNorm,
  FfnNormBias,
  FfnGate,
  FfnUp,
  FfnDown,
  Router,
  GateExps,
  UpExps,
  DownExps,
  SelectionBias,
  RouterBias,  // gpt-oss: added to the router logits
  GateExpsBias,
  UpExpsBias,
  DownExpsBias,
  SharedExpertGate,  // the sigmoid gate of a shared expert
  SharedGate,
  SharedUp,
  SharedDown,
  // grok: RMSNorm of the FFN output before its residual add, named layer_output_norm (Grok-1)
  // or post_ffw_norm (the alternative llama.cpp falls back to).
  FfnPostNorm,
  FfnPostNormAlt,
};

// How a tensor is stored and initialized.
enum class TensorKind {
  Matrix,   // weights (a stack of expert matrices when 3-D), in the model's weight type
  Router,   // router weights (and a shared expert's gate): F32 in converted files
  Norm,     // norm weights, F32
  Bias,     // biases and the selection bias, F32
  Factors,  // RoPE frequency factors, F32
};

// Which part of the model a tensor's parameters count toward (Model::parameter_counts).
enum class ParameterGroup {
  Embedding,
  Output,  // the output head and its bias
  Attention,
  Norms,
  Router,  // routers and the selection bias
  Experts,
  DenseFfn,
  SharedExperts,
  None,  // RoPE frequency factors: not weights of the network
};

struct TensorSpec {
  TensorRole role = TensorRole::TokenEmbedding;
  TensorKind kind = TensorKind::Matrix;
  int layer = -1;              // -1: not a layer's
  std::string name;            // GGUF name
  std::vector<uint64_t> dims;  // ne order (fastest first)
  bool required = true;        // false: a file may leave it out
};

// File layouts that hold the same weights differently.
struct TensorVariant {
  bool fused_qkv = false;   // attn_qkv (and attn_qkv.bias) instead of attn_q/k/v and their biases
  bool split_kv_b = false;  // latent attention: attn_k_b + attn_v_b instead of attn_kv_b
  bool post_ffw_norm = false;  // grok: post_ffw_norm instead of layer_output_norm
};

// The tensors outside the layers: token embedding, output norm and head, RoPE factors.
std::vector<TensorSpec> global_tensor_schema(const Architecture& arch, const ModelConfig& config);
// The tensors of layer `layer`, MoE or dense as config.layer_is_moe says.
std::vector<TensorSpec> layer_tensor_schema(const Architecture& arch, const ModelConfig& config,
                                            int layer, const TensorVariant& variant = {});
// Everything in file order: the global tensors, then layer by layer.
std::vector<TensorSpec> tensor_schema(const Architecture& arch, const ModelConfig& config,
                                      const TensorVariant& variant = {});

// The feature a role belongs to, for people: "shared experts", "norm biases", "q/k norms" ...
std::string_view tensor_role_feature(TensorRole role);
ParameterGroup tensor_role_group(TensorRole role);

}  // namespace moe
