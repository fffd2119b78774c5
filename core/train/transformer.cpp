// The whole model, forward and backward, as a sequence of the operations in train_ops.hpp.
// Per layer (pre-norm, as core/backend/cpu_backend.cpp):
//   h = x + W_o · Attn(RoPE(W_q n), RoPE(W_k n), W_v n),  n = RMSNorm(x)
//   x' = h + MoE(RMSNorm(h))
// then RMSNorm, the LM head (token_embd when tied) and the cross-entropy.
#include "moe/error.hpp"
#include "moe/train_model.hpp"

namespace moe::train {

template <typename T>
Transformer<T>::Transformer(const ParameterLayout& layout, ParallelTasks& parallel)
    : layout_(layout), parallel_(parallel), layers_(static_cast<size_t>(layout.shape().n_layer)) {}

template <typename T>
MoeWeights<T> Transformer<T>::moe_weights(const T* params, int layer) const {
  const LayerOffsets& o = layout_.layers[static_cast<size_t>(layer)];
  return {params + o.router, params + o.gate_exps, params + o.up_exps, params + o.down_exps};
}

template <typename T>
ForwardStats Transformer<T>::forward(const T* params, std::span<const int32_t> tokens,
                                     std::span<const int32_t> targets, int n_seq, int seq_len,
                                     const LossWeights& loss_weights) {
  const ModelShape& s = layout_.shape();
  if (n_seq < 1 || seq_len < 1 || seq_len > s.n_ctx) {
    throw Error("forward: need n_seq >= 1 and 1 <= seq_len <= n_ctx (" + std::to_string(s.n_ctx) +
                "), got " + std::to_string(n_seq) + " x " + std::to_string(seq_len));
  }
  const size_t n = static_cast<size_t>(n_seq) * static_cast<size_t>(seq_len);
  if (tokens.size() != n || (!targets.empty() && targets.size() != n)) {
    throw Error("forward: expected " + std::to_string(n) + " tokens and targets");
  }
  for (std::span<const int32_t> ids : {tokens, targets}) {
    for (int32_t id : ids) {
      if (id < 0 || id >= s.n_vocab)
        throw Error("forward: token id " + std::to_string(id) + " is outside the vocabulary");
    }
  }
  n_seq_ = n_seq;
  seq_len_ = seq_len;
  loss_weights_ = loss_weights;
  tokens_.assign(tokens.begin(), tokens.end());
  targets_.assign(targets.begin(), targets.end());

  const AttentionShape attention{n_seq, seq_len, s.n_head, s.n_head_kv, s.head_dim()};
  const MoeShape moe{s.n_embd, s.n_ff_exp, s.n_expert, s.top_k};
  const T eps = static_cast<T>(s.rms_eps);
  ForwardStats stats;

  Matrix<T> x, projected;
  embedding_forward(params + layout_.token_embd, s.n_embd, tokens, x);
  for (int il = 0; il < s.n_layer; ++il) {
    LayerActivations& a = layers_[static_cast<size_t>(il)];
    const LayerOffsets& o = layout_.layers[static_cast<size_t>(il)];
    a.x_in = x;
    rmsnorm_forward(parallel_, x, params + o.attn_norm, eps, a.attn_in, a.attn_rstd);
    linear_forward(parallel_, a.attn_in, params + o.attn_q, s.n_head * s.head_dim(), a.q);
    linear_forward(parallel_, a.attn_in, params + o.attn_k, s.n_head_kv * s.head_dim(), a.k);
    linear_forward(parallel_, a.attn_in, params + o.attn_v, s.n_head_kv * s.head_dim(), a.v);
    rope_forward(a.q, s.n_head, s.head_dim(), seq_len, s.rope_base);
    rope_forward(a.k, s.n_head_kv, s.head_dim(), seq_len, s.rope_base);
    attention_forward(parallel_, a.q, a.k, a.v, attention, a.attn_out, a.probs);
    linear_forward(parallel_, a.attn_out, params + o.attn_output, s.n_embd, projected);
    x += projected;
    a.x_mid = x;
    rmsnorm_forward(parallel_, x, params + o.ffn_norm, eps, a.ffn_in, a.ffn_rstd);
    moe_forward(parallel_, a.ffn_in, moe_weights(params, il), moe, a.moe, projected);
    x += projected;
    stats.load_balance += static_cast<double>(a.moe.load_balance_loss) / s.n_layer;
    stats.z_loss += static_cast<double>(a.moe.z_loss) / s.n_layer;
    stats.expert_counts.push_back(a.moe.expert_counts);
  }
  x_final_ = std::move(x);
  rmsnorm_forward(parallel_, x_final_, params + layout_.output_norm, eps, final_normed_,
                  final_rstd_);
  linear_forward(parallel_, final_normed_, params + layout_.output, s.n_vocab, logits_);
  if (!targets_.empty()) {
    stats.cross_entropy =
        static_cast<double>(cross_entropy_forward(parallel_, logits_, targets_, logsumexp_));
  }
  stats.total = stats.cross_entropy + loss_weights.load_balance * stats.load_balance +
                loss_weights.z_loss * stats.z_loss;
  return stats;
}

template <typename T>
void Transformer<T>::backward(const T* params, T* grads, T loss_scale) {
  const ModelShape& s = layout_.shape();
  if (targets_.empty()) throw Error("backward: the forward pass had no targets");
  const AttentionShape attention{n_seq_, seq_len_, s.n_head, s.n_head_kv, s.head_dim()};
  const MoeShape moe{s.n_embd, s.n_ff_exp, s.n_expert, s.top_k};
  const Eigen::Index rows = static_cast<Eigen::Index>(tokens_.size());
  const T load_balance_grad = loss_scale * static_cast<T>(loss_weights_.load_balance / s.n_layer);
  const T z_grad = loss_scale * static_cast<T>(loss_weights_.z_loss / s.n_layer);

  // Head: the logits' buffer becomes their gradient.
  cross_entropy_backward(parallel_, logits_, targets_, logsumexp_, loss_scale, logits_);
  Matrix<T> dnormed = Matrix<T>::Zero(rows, s.n_embd);
  linear_backward(parallel_, logits_, final_normed_, params + layout_.output, &dnormed,
                  grads + layout_.output);
  Matrix<T> dx = Matrix<T>::Zero(rows, s.n_embd);
  rmsnorm_backward(parallel_, dnormed, x_final_, params + layout_.output_norm, final_rstd_, dx,
                   grads + layout_.output_norm);

  Matrix<T> dattn_out, dq, dk, dv;
  for (int il = s.n_layer - 1; il >= 0; --il) {
    LayerActivations& a = layers_[static_cast<size_t>(il)];
    const LayerOffsets& o = layout_.layers[static_cast<size_t>(il)];
    // x_out = x_mid + MoE(RMSNorm(x_mid))
    dnormed.setZero();
    const MoeGradients<T> moe_grads{grads + o.router, grads + o.gate_exps, grads + o.up_exps,
                                    grads + o.down_exps};
    moe_backward(parallel_, dx, a.ffn_in, moe_weights(params, il), moe, a.moe, load_balance_grad,
                 z_grad, dnormed, moe_grads);
    rmsnorm_backward(parallel_, dnormed, a.x_mid, params + o.ffn_norm, a.ffn_rstd, dx,
                     grads + o.ffn_norm);
    // x_mid = x_in + W_o · Attn(...)
    dattn_out.setZero(rows, a.attn_out.cols());
    linear_backward(parallel_, dx, a.attn_out, params + o.attn_output, &dattn_out,
                    grads + o.attn_output);
    dq.setZero(rows, a.q.cols());
    dk.setZero(rows, a.k.cols());
    dv.setZero(rows, a.v.cols());
    attention_backward(parallel_, dattn_out, a.q, a.k, a.v, a.probs, attention, dq, dk, dv);
    rope_backward(dq, s.n_head, s.head_dim(), seq_len_, s.rope_base);
    rope_backward(dk, s.n_head_kv, s.head_dim(), seq_len_, s.rope_base);
    dnormed.setZero();
    linear_backward(parallel_, dq, a.attn_in, params + o.attn_q, &dnormed, grads + o.attn_q);
    linear_backward(parallel_, dk, a.attn_in, params + o.attn_k, &dnormed, grads + o.attn_k);
    linear_backward(parallel_, dv, a.attn_in, params + o.attn_v, &dnormed, grads + o.attn_v);
    rmsnorm_backward(parallel_, dnormed, a.x_in, params + o.attn_norm, a.attn_rstd, dx,
                     grads + o.attn_norm);
  }
  embedding_backward(dx, tokens_, grads + layout_.token_embd);
}

template class Transformer<float>;
template class Transformer<double>;

}  // namespace moe::train
