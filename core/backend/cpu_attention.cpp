#include <algorithm>
#include <cmath>

#include "cpu_kernels.hpp"
#include "cpu_vector_ops.hpp"

namespace moe::cpu {

void attention(Kernels& kernels, const ModelConfig& config, const RowMatrix& q,
               const RowMatrix& k_cache, const RowMatrix& v_cache, int pos0, RowMatrix& out,
               const AttentionExtras& extras) {
  const Eigen::Index n = q.rows();
  const Eigen::Index n_kv = pos0 + n;
  const int hd = config.head_dim, hdv = config.head_dim_v;
  const int heads_per_kv = config.n_head / config.n_head_kv;
  const float scale = config.kq_scale;
  out.resize(n, static_cast<Eigen::Index>(config.n_head) * hdv);

  using ScoreMap = Eigen::Map<RowMatrix>;
  const VectorOps& ops = vector_ops();
  kernels.pool().run(config.n_head, [&](int h, int worker) {
    const int kv = h / heads_per_kv;  // grouped-query: heads share a key/value head
    ScratchBuffer& buffer = kernels.scratch(worker);
    buffer.resize(static_cast<size_t>(n * n_kv));
    ScoreMap scores(buffer.data(), n, n_kv);
    const Eigen::Index key_offset = static_cast<Eigen::Index>(kv) * hd;
    const Eigen::Index value_offset = static_cast<Eigen::Index>(kv) * hdv;
    // One decoded token: a dot product per cached key and a scaled add per cached value, in this
    // CPU's vector instructions. Written when Eigen's products had only SSE2 (its GEMV was 8% of
    // a long decode); not measured since against OpenBLAS's.
    const bool one_token = n == 1;
    if (one_token) {
      const float* query = q.row(0).data() + static_cast<Eigen::Index>(h) * hd;
      for (Eigen::Index j = 0; j < n_kv; ++j)
        scores(0, j) = ops.dot(query, k_cache.row(j).data() + key_offset, hd);
    } else {
      scores.noalias() = q.middleCols(static_cast<Eigen::Index>(h) * hd, hd) *
                         k_cache.block(0, key_offset, n_kv, hd).transpose();
    }
    for (Eigen::Index t = 0; t < n; ++t) {
      const Eigen::Index visible = pos0 + t + 1;  // causal: positions up to its own
      // A sliding window drops the keys W or more positions back.
      Eigen::Index first =
          extras.window > 0 ? std::max<Eigen::Index>(0, visible - extras.window) : 0;
      // A chunk starts over every `chunk` positions (llama4).
      if (extras.chunk > 0) first = (visible - 1) / extras.chunk * extras.chunk;
      auto row = scores.row(t);
      auto live = row.segment(first, visible - first);
      if (extras.softcap > 0) {
        // grok: the scaled score soft-capped, as llama.cpp folds it: c tanh(s (scale / c)).
        live = (live.array() * (scale / extras.softcap)).tanh() * extras.softcap;
      } else {
        live *= scale;
      }
      float max_score = live.maxCoeff();
      // A sink joins the softmax's denominator (unscaled) but adds no value.
      const bool sink = !extras.sinks.empty();
      const float sink_logit = sink ? extras.sinks[static_cast<size_t>(h)] : 0.0f;
      if (sink) max_score = std::max(max_score, sink_logit);
      live = (live.array() - max_score).exp();
      live /= live.sum() + (sink ? std::exp(sink_logit - max_score) : 0.0f);
      row.head(first).setZero();
      row.tail(n_kv - visible).setZero();
    }
    if (one_token) {
      float* result = out.row(0).data() + static_cast<Eigen::Index>(h) * hdv;
      std::fill(result, result + hdv, 0.0f);
      for (Eigen::Index j = 0; j < n_kv; ++j)
        ops.axpy(scores(0, j), v_cache.row(j).data() + value_offset, result, hdv);
    } else {
      out.middleCols(static_cast<Eigen::Index>(h) * hdv, hdv).noalias() =
          scores * v_cache.block(0, value_offset, n_kv, hdv);
    }
  });
}

}  // namespace moe::cpu
