// Causal grouped-query attention, per sequence and head:
//   S = Q Kᵀ / √d,  P = softmax over the visible prefix of each row (causal),  O = P V.
// Backward:
//   dP = dO Vᵀ,  dV = Pᵀ dO,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = dS K / √d,  dK = dSᵀ Q / √d.
// The forward pass runs one task per (sequence, head); the backward pass one per
// (sequence, key/value head), so the heads that share a key/value head add into dK, dV in order.
#include <algorithm>
#include <cmath>

#include "moe/train_ops.hpp"

namespace moe::train {

namespace {

constexpr int kQueryBlock = 64;  // query rows per causal block

template <typename T>
ConstMatrixMap<T> probs_block(const AlignedVector<T>& probs, const AttentionShape& s, int seq,
                              int head) {
  const size_t square = static_cast<size_t>(s.seq_len) * static_cast<size_t>(s.seq_len);
  const size_t index =
      static_cast<size_t>(seq) * static_cast<size_t>(s.n_head) + static_cast<size_t>(head);
  return ConstMatrixMap<T>(probs.data() + index * square, s.seq_len, s.seq_len);
}

}  // namespace

template <typename T>
void attention_forward(ParallelTasks& parallel, const Matrix<T>& q, const Matrix<T>& k,
                       const Matrix<T>& v, const AttentionShape& s, Matrix<T>& out,
                       AlignedVector<T>& probs) {
  const int len = s.seq_len, hd = s.head_dim;
  const int heads_per_kv = s.n_head / s.n_head_kv;
  const T scale = T(1) / std::sqrt(static_cast<T>(hd));
  out.resize(q.rows(), static_cast<Eigen::Index>(s.n_head) * hd);
  probs.resize(static_cast<size_t>(s.n_seq) * static_cast<size_t>(s.n_head) *
               static_cast<size_t>(len) * static_cast<size_t>(len));
  parallel.run(s.n_seq * s.n_head, [&](int task) {
    const int seq = task / s.n_head, head = task % s.n_head, kv = head / heads_per_kv;
    const Eigen::Index row0 = static_cast<Eigen::Index>(seq) * len;
    const auto q_h = q.block(row0, static_cast<Eigen::Index>(head) * hd, len, hd);
    const auto k_h = k.block(row0, static_cast<Eigen::Index>(kv) * hd, len, hd);
    const auto v_h = v.block(row0, static_cast<Eigen::Index>(kv) * hd, len, hd);
    const ConstMatrixMap<T> view = probs_block(probs, s, seq, head);
    MatrixMap<T> p(const_cast<T*>(view.data()), len, len);
    // Blocks of query rows see only the keys up to their last row (causal), so the scores and
    // products above the diagonal blocks are never computed.
    for (int r0 = 0; r0 < len; r0 += kQueryBlock) {
      const int rows = std::min(kQueryBlock, len - r0), visible = r0 + rows;
      auto scores = p.block(r0, 0, rows, visible);
      scores.noalias() = q_h.middleRows(r0, rows) * k_h.topRows(visible).transpose();
      for (int t = r0; t < visible; ++t) {
        auto live = p.row(t).head(t + 1);  // positions up to its own
        live *= scale;
        const T max_score = live.maxCoeff();
        live = (live.array() - max_score).exp();
        live /= live.sum();
        p.row(t).tail(len - t - 1).setZero();
      }
      out.block(row0 + r0, static_cast<Eigen::Index>(head) * hd, rows, hd).noalias() =
          scores * v_h.topRows(visible);
    }
  });
}

template <typename T>
void attention_backward(ParallelTasks& parallel, const Matrix<T>& dout, const Matrix<T>& q,
                        const Matrix<T>& k, const Matrix<T>& v, const AlignedVector<T>& probs,
                        const AttentionShape& s, Matrix<T>& dq, Matrix<T>& dk, Matrix<T>& dv) {
  const int len = s.seq_len, hd = s.head_dim;
  const int heads_per_kv = s.n_head / s.n_head_kv;
  const T scale = T(1) / std::sqrt(static_cast<T>(hd));
  parallel.run(s.n_seq * s.n_head_kv, [&](int task) {
    const int seq = task / s.n_head_kv, kv = task % s.n_head_kv;
    const Eigen::Index row0 = static_cast<Eigen::Index>(seq) * len;
    const auto k_h = k.block(row0, static_cast<Eigen::Index>(kv) * hd, len, hd);
    const auto v_h = v.block(row0, static_cast<Eigen::Index>(kv) * hd, len, hd);
    auto dk_h = dk.block(row0, static_cast<Eigen::Index>(kv) * hd, len, hd);
    auto dv_h = dv.block(row0, static_cast<Eigen::Index>(kv) * hd, len, hd);
    Matrix<T> dp(std::min(kQueryBlock, len), len);
    for (int head = kv * heads_per_kv; head < (kv + 1) * heads_per_kv; ++head) {
      const ConstMatrixMap<T> p = probs_block(probs, s, seq, head);
      const auto q_h = q.block(row0, static_cast<Eigen::Index>(head) * hd, len, hd);
      const auto do_h = dout.block(row0, static_cast<Eigen::Index>(head) * hd, len, hd);
      for (int r0 = 0; r0 < len; r0 += kQueryBlock) {
        const int rows = std::min(kQueryBlock, len - r0), visible = r0 + rows;
        const auto p_block = p.block(r0, 0, rows, visible);
        const auto do_block = do_h.middleRows(r0, rows);
        auto dp_block = dp.block(0, 0, rows, visible);
        dv_h.topRows(visible).noalias() += p_block.transpose() * do_block;
        dp_block.noalias() = do_block * v_h.topRows(visible).transpose();
        for (int i = 0; i < rows; ++i) {  // softmax backward, then the 1/√d of the scores
          const int t = r0 + i;
          auto live = dp_block.row(i).head(t + 1);
          const auto p_live = p.row(t).head(t + 1);
          const T dot = live.dot(p_live);
          live = (p_live.array() * (live.array() - dot) * scale).matrix();
          dp_block.row(i).tail(visible - t - 1).setZero();
        }
        dq.block(row0 + r0, static_cast<Eigen::Index>(head) * hd, rows, hd).noalias() +=
            dp_block * k_h.topRows(visible);
        dk_h.topRows(visible).noalias() += dp_block.transpose() * q_h.middleRows(r0, rows);
      }
    }
  });
}

#define MOE_INSTANTIATE(T)                                                                         \
  template void attention_forward<T>(ParallelTasks&, const Matrix<T>&, const Matrix<T>&,           \
                                     const Matrix<T>&, const AttentionShape&, Matrix<T>&,          \
                                     AlignedVector<T>&);                                           \
  template void attention_backward<T>(ParallelTasks&, const Matrix<T>&, const Matrix<T>&,          \
                                      const Matrix<T>&, const Matrix<T>&, const AlignedVector<T>&, \
                                      const AttentionShape&, Matrix<T>&, Matrix<T>&, Matrix<T>&);
MOE_INSTANTIATE(float)
MOE_INSTANTIATE(double)
#undef MOE_INSTANTIATE

}  // namespace moe::train
