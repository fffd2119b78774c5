// The tensor schema: which tensors an architecture's model has for a configuration, with their
// shapes. The order is the order files are written in (and the trainer's parameter layout).
#include "moe/tensor_schema.hpp"

#include <iterator>

#include "moe/error.hpp"
#include "moe/model.hpp"

namespace moe {

namespace {

// Per role: where the architecture keeps its name, its kind, and the feature it belongs to.
struct RoleEntry {
  TensorRole role;
  std::string TensorNames::*name;
  TensorKind kind;
  ParameterGroup group;
  const char* feature;
};

using R = TensorRole;
using K = TensorKind;
using G = ParameterGroup;
constexpr RoleEntry kRoles[] = {
    {R::TokenEmbedding, &TensorNames::token_embd, K::Matrix, G::Embedding, "the token embedding"},
    {R::OutputNorm, &TensorNames::output_norm, K::Norm, G::Norms, "the output norm"},
    {R::OutputNormBias, &TensorNames::output_norm_bias, K::Bias, G::Norms, "norm biases"},
    {R::Output, &TensorNames::output, K::Matrix, G::Output, "the output projection"},
    {R::OutputBias, &TensorNames::output_bias, K::Bias, G::Output, "an output bias"},
    {R::RopeFreqs, &TensorNames::rope_freqs, K::Factors, G::None, "RoPE frequency factors"},
    {R::RopeFactorsLong, &TensorNames::rope_factors_long, K::Factors, G::None,
     "RoPE frequency factors"},
    {R::RopeFactorsShort, &TensorNames::rope_factors_short, K::Factors, G::None,
     "RoPE frequency factors"},
    {R::AttnNorm, &TensorNames::attn_norm, K::Norm, G::Norms, "the attention norm"},
    {R::AttnNormBias, &TensorNames::attn_norm_bias, K::Bias, G::Norms, "norm biases"},
    {R::AttnQ, &TensorNames::attn_q, K::Matrix, G::Attention, "q, k and v projections"},
    {R::AttnK, &TensorNames::attn_k, K::Matrix, G::Attention, "q, k and v projections"},
    {R::AttnV, &TensorNames::attn_v, K::Matrix, G::Attention, "q, k and v projections"},
    {R::AttnQkv, &TensorNames::attn_qkv, K::Matrix, G::Attention, "a fused q, k and v projection"},
    {R::AttnOutput, &TensorNames::attn_output, K::Matrix, G::Attention,
     "the attention output projection"},
    {R::AttnQBias, &TensorNames::attn_q_bias, K::Bias, G::Attention, "q, k and v biases"},
    {R::AttnKBias, &TensorNames::attn_k_bias, K::Bias, G::Attention, "q, k and v biases"},
    {R::AttnVBias, &TensorNames::attn_v_bias, K::Bias, G::Attention, "q, k and v biases"},
    {R::AttnQkvBias, &TensorNames::attn_qkv_bias, K::Bias, G::Attention, "q, k and v biases"},
    {R::AttnOutputBias, &TensorNames::attn_output_bias, K::Bias, G::Attention,
     "an attention output bias"},
    {R::AttnQNorm, &TensorNames::attn_q_norm, K::Norm, G::Norms, "q/k norms"},
    {R::AttnKNorm, &TensorNames::attn_k_norm, K::Norm, G::Norms, "q/k norms"},
    {R::AttnSinks, &TensorNames::attn_sinks, K::Bias, G::Attention, "attention sinks"},
    {R::AttnOutputNorm, &TensorNames::attn_output_norm, K::Norm, G::Norms,
     "a norm of the attention output"},
    {R::AttnQA, &TensorNames::attn_q_a, K::Matrix, G::Attention, "multi-head latent attention"},
    {R::AttnQANorm, &TensorNames::attn_q_a_norm, K::Norm, G::Norms, "multi-head latent attention"},
    {R::AttnQB, &TensorNames::attn_q_b, K::Matrix, G::Attention, "multi-head latent attention"},
    {R::AttnKvAMqa, &TensorNames::attn_kv_a_mqa, K::Matrix, G::Attention,
     "multi-head latent attention"},
    {R::AttnKvANorm, &TensorNames::attn_kv_a_norm, K::Norm, G::Norms,
     "multi-head latent attention"},
    {R::AttnKvB, &TensorNames::attn_kv_b, K::Matrix, G::Attention, "multi-head latent attention"},
    {R::AttnKB, &TensorNames::attn_k_b, K::Matrix, G::Attention, "multi-head latent attention"},
    {R::AttnVB, &TensorNames::attn_v_b, K::Matrix, G::Attention, "multi-head latent attention"},
    {R::FfnNorm, &TensorNames::ffn_norm, K::Norm, G::Norms, "the feed-forward norm"},
    {R::FfnNormBias, &TensorNames::ffn_norm_bias, K::Bias, G::Norms, "norm biases"},
    {R::FfnGate, &TensorNames::ffn_gate, K::Matrix, G::DenseFfn, "dense feed-forward layers"},
    {R::FfnUp, &TensorNames::ffn_up, K::Matrix, G::DenseFfn, "dense feed-forward layers"},
    {R::FfnDown, &TensorNames::ffn_down, K::Matrix, G::DenseFfn, "dense feed-forward layers"},
    {R::Router, &TensorNames::ffn_gate_inp, K::Router, G::Router, "routed experts"},
    {R::GateExps, &TensorNames::ffn_gate_exps, K::Matrix, G::Experts, "routed experts"},
    {R::UpExps, &TensorNames::ffn_up_exps, K::Matrix, G::Experts, "routed experts"},
    {R::DownExps, &TensorNames::ffn_down_exps, K::Matrix, G::Experts, "routed experts"},
    {R::SelectionBias, &TensorNames::exp_probs_b, K::Bias, G::Router, "an expert selection bias"},
    {R::RouterBias, &TensorNames::ffn_gate_inp_bias, K::Bias, G::Router, "a router bias"},
    {R::GateExpsBias, &TensorNames::ffn_gate_exps_bias, K::Bias, G::Experts, "expert biases"},
    {R::UpExpsBias, &TensorNames::ffn_up_exps_bias, K::Bias, G::Experts, "expert biases"},
    {R::DownExpsBias, &TensorNames::ffn_down_exps_bias, K::Bias, G::Experts, "expert biases"},
    {R::SharedExpertGate, &TensorNames::ffn_gate_inp_shexp, K::Router, G::SharedExperts,
     "shared experts"},
    {R::SharedGate, &TensorNames::ffn_gate_shexp, K::Matrix, G::SharedExperts, "shared experts"},
    {R::SharedUp, &TensorNames::ffn_up_shexp, K::Matrix, G::SharedExperts, "shared experts"},
    {R::SharedDown, &TensorNames::ffn_down_shexp, K::Matrix, G::SharedExperts, "shared experts"},
    {R::FfnPostNorm, &TensorNames::ffn_post_norm, K::Norm, G::Norms, "a norm of the FFN output"},
    {R::FfnPostNormAlt, &TensorNames::ffn_post_norm_alt, K::Norm, G::Norms,
     "a norm of the FFN output"},
};

const RoleEntry& entry(TensorRole role) {
  for (const RoleEntry& known : kRoles) {
    if (known.role == role) return known;
  }
  throw Error("tensor schema: unknown role " + std::to_string(static_cast<int>(role)));
}

// Collects the specs of one scope (the globals or one layer) with names filled in.
class SchemaBuilder {
public:
  SchemaBuilder(const Architecture& arch, int layer) : arch_(arch), layer_(layer) {}

  void add(TensorRole role, std::vector<uint64_t> dims, bool required = true) {
    const RoleEntry& known = entry(role);
    TensorSpec spec;
    spec.role = role;
    spec.kind = known.kind;
    spec.layer = layer_;
    const std::string& pattern = arch_.tensors.*known.name;
    spec.name = layer_ < 0 ? pattern : layer_tensor_name(pattern, layer_);
    spec.dims = std::move(dims);
    spec.required = required;
    specs_.push_back(std::move(spec));
  }
  std::vector<TensorSpec> take() { return std::move(specs_); }

private:
  const Architecture& arch_;
  int layer_;
  std::vector<TensorSpec> specs_;
};

uint64_t u(int value) { return static_cast<uint64_t>(value); }

}  // namespace

std::vector<TensorSpec> global_tensor_schema(const Architecture& arch, const ModelConfig& c) {
  const uint64_t n_embd = u(c.n_embd), n_vocab = u(c.n_vocab);
  const bool norm_bias = arch.norm == NormKind::RmsWithBias;
  SchemaBuilder schema(arch, -1);
  schema.add(R::TokenEmbedding, {n_embd, n_vocab});
  schema.add(R::OutputNorm, {n_embd});
  if (norm_bias) schema.add(R::OutputNormBias, {n_embd});
  schema.add(R::Output, {n_embd, n_vocab}, !arch.output_optional);  // absent: tied to token_embd
  if (arch.output_bias) schema.add(R::OutputBias, {n_vocab});
  if (c.n_rot > 0) {
    schema.add(R::RopeFreqs, {u(c.n_rot / 2)}, false);
    schema.add(R::RopeFactorsLong, {u(c.n_rot / 2)}, false);
    schema.add(R::RopeFactorsShort, {u(c.n_rot / 2)}, false);
  }
  return schema.take();
}

std::vector<TensorSpec> layer_tensor_schema(const Architecture& arch, const ModelConfig& c,
                                            int layer, const TensorVariant& variant) {
  const uint64_t n_embd = u(c.n_embd);
  const uint64_t q_width = u(c.n_head * c.head_dim);
  const uint64_t k_width = u(c.n_head_kv * c.head_dim);
  const uint64_t v_width = u(c.n_head_kv * c.head_dim_v);
  const uint64_t attn_width = u(c.n_head * c.head_dim_v);
  const bool norm_bias = arch.norm == NormKind::RmsWithBias;
  const bool latent = arch.attention == AttentionKind::LatentMultiHead;
  const bool biases_required = arch.attention_biases_required;

  SchemaBuilder schema(arch, layer);
  schema.add(R::AttnNorm, {n_embd});
  if (norm_bias) schema.add(R::AttnNormBias, {n_embd});
  if (latent) {
    const uint64_t q_lora = u(c.q_lora_rank), kv_lora = u(c.kv_lora_rank);
    const uint64_t nope = u(c.head_dim - c.n_rot), n_head = u(c.n_head);
    if (c.q_lora_rank > 0) {
      schema.add(R::AttnQA, {n_embd, q_lora});
      schema.add(R::AttnQANorm, {q_lora});
      schema.add(R::AttnQB, {q_lora, q_width});
    } else {
      schema.add(R::AttnQ, {n_embd, q_width});
    }
    schema.add(R::AttnKvAMqa, {n_embd, kv_lora + u(c.n_rot)});
    schema.add(R::AttnKvANorm, {kv_lora});
    if (variant.split_kv_b) {  // newer files: attn_kv_b split per head
      schema.add(R::AttnKB, {nope, kv_lora, n_head});
      schema.add(R::AttnVB, {kv_lora, u(c.head_dim_v), n_head});
    } else {
      schema.add(R::AttnKvB, {kv_lora, n_head * (nope + u(c.head_dim_v))});
    }
  } else if (variant.fused_qkv) {
    schema.add(R::AttnQkv, {n_embd, q_width + k_width + v_width});
  } else {
    schema.add(R::AttnQ, {n_embd, q_width});
    schema.add(R::AttnK, {n_embd, k_width});
    schema.add(R::AttnV, {n_embd, v_width});
  }
  schema.add(R::AttnOutput, {attn_width, n_embd});
  if (!latent) {
    if (variant.fused_qkv) {
      // As llama.cpp: with a fused projection the bias, if any, is fused too.
      schema.add(R::AttnQkvBias, {q_width + k_width + v_width}, false);
    } else {
      schema.add(R::AttnQBias, {q_width}, biases_required);
      schema.add(R::AttnKBias, {k_width}, biases_required);
      schema.add(R::AttnVBias, {v_width}, biases_required);
    }
    schema.add(R::AttnOutputBias, {n_embd}, arch.attention_output_bias_required);
  }
  const bool qk_norm_required = !arch.qk_norm_optional;
  if (arch.qk_norm == QkNorm::WholeProjection) {
    schema.add(R::AttnQNorm, {q_width}, qk_norm_required);
    schema.add(R::AttnKNorm, {k_width}, qk_norm_required);
  } else if (arch.qk_norm == QkNorm::PerHead) {
    schema.add(R::AttnQNorm, {u(c.head_dim)}, qk_norm_required);
    schema.add(R::AttnKNorm, {u(c.head_dim)}, qk_norm_required);
  }
  if (arch.openai_moe) schema.add(R::AttnSinks, {u(c.n_head)});
  if (arch.grok) schema.add(R::AttnOutputNorm, {n_embd});
  schema.add(R::FfnNorm, {n_embd});
  if (norm_bias) schema.add(R::FfnNormBias, {n_embd});
  if (arch.grok) schema.add(variant.post_ffw_norm ? R::FfnPostNormAlt : R::FfnPostNorm, {n_embd});

  const bool moe =
      layer < static_cast<int>(c.layer_is_moe.size()) && c.layer_is_moe[static_cast<size_t>(layer)];
  if (!moe) {
    const uint64_t n_ff = u(c.n_ff);
    schema.add(R::FfnGate, {n_embd, n_ff});
    schema.add(R::FfnUp, {n_embd, n_ff});
    schema.add(R::FfnDown, {n_ff, n_embd});
    return schema.take();
  }
  const uint64_t n_expert = u(c.n_expert), n_ff_exp = u(c.n_ff_exp);
  if (arch.grok && c.n_ff > 0) {  // Grok-2: a dense FFN beside the experts
    schema.add(R::FfnGate, {n_embd, u(c.n_ff)}, false);
    schema.add(R::FfnUp, {n_embd, u(c.n_ff)}, false);
    schema.add(R::FfnDown, {u(c.n_ff), n_embd}, false);
  }
  schema.add(R::Router, {n_embd, n_expert});
  if (arch.openai_moe) schema.add(R::RouterBias, {n_expert});
  schema.add(R::GateExps, {n_embd, n_ff_exp, n_expert});
  schema.add(R::UpExps, {n_embd, n_ff_exp, n_expert});
  schema.add(R::DownExps, {n_ff_exp, n_embd, n_expert});
  if (arch.openai_moe) {
    schema.add(R::GateExpsBias, {n_ff_exp, n_expert});
    schema.add(R::UpExpsBias, {n_ff_exp, n_expert});
    schema.add(R::DownExpsBias, {n_embd, n_expert});
  }
  if (arch.routing_from_keys || arch.selection_bias_optional) {
    schema.add(R::SelectionBias, {n_expert}, arch.selection_bias_required);
  }
  if (arch.shared_experts == SharedExperts::SigmoidGated) {
    schema.add(R::SharedExpertGate, {n_embd});
  }
  if (c.n_ff_shexp > 0) {
    const uint64_t n_ff_shexp = u(c.n_ff_shexp);
    schema.add(R::SharedGate, {n_embd, n_ff_shexp});
    schema.add(R::SharedUp, {n_embd, n_ff_shexp});
    schema.add(R::SharedDown, {n_ff_shexp, n_embd});
  }
  return schema.take();
}

std::vector<TensorSpec> tensor_schema(const Architecture& arch, const ModelConfig& config,
                                      const TensorVariant& variant) {
  std::vector<TensorSpec> all = global_tensor_schema(arch, config);
  for (int layer = 0; layer < config.n_layer; ++layer) {
    std::vector<TensorSpec> specs = layer_tensor_schema(arch, config, layer, variant);
    all.insert(all.end(), std::make_move_iterator(specs.begin()),
               std::make_move_iterator(specs.end()));
  }
  return all;
}

std::string_view tensor_role_feature(TensorRole role) { return entry(role).feature; }
ParameterGroup tensor_role_group(TensorRole role) { return entry(role).group; }

}  // namespace moe
