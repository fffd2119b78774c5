#pragma once
// The training operations: for each layer of the llama-style MoE transformer the inference engine
// runs (core/backend), its forward pass and, next to it, its backward pass.
//
// Conventions (llm.c style):
// - Activations are row-major matrices, one row per token. Rows are token-major over a batch of
//   n_seq sequences of seq_len tokens: row r is token r % seq_len of sequence r / seq_len.
// - A weight matrix `w` of a linear map with n_in inputs and n_out outputs is row-major
//   [n_out, n_in]: exactly the GGUF tensor with ne [n_in, n_out]. y = x · wᵀ.
// - Every backward function ADDS to the gradients it produces (input and weight gradients alike),
//   so a caller zeroes them once and several paths can accumulate into the same buffer.
// - Everything is templated on the scalar: float for training, double for the gradient checks.
// - Work is split into chunks that depend only on the sizes (never on the thread count or on
//   which thread runs first), and reductions add chunk results in chunk order, so results are
//   bit-identical from run to run and for any number of threads.
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace moe {
class ThreadPool;
}

namespace moe::train {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;
// Buffers that Eigen's vectorized reductions and transcendental functions read: aligned like
// Eigen's own matrices, so that the split into SIMD packets (and with it the rounding) is the
// same in every run, whatever address the allocator returns.
template <typename T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

// Runs a batch of tasks in parallel on a fork-join pool of threads (the calling thread counts
// as one) and waits for all of them.
class ParallelTasks {
public:
  explicit ParallelTasks(int n_threads = 1);  // 0: all hardware threads
  ~ParallelTasks();
  ParallelTasks(const ParallelTasks&) = delete;
  ParallelTasks& operator=(const ParallelTasks&) = delete;

  int size() const;
  // Calls fn(task) for task in [0, n_tasks) on the pool; returns when all are done. Rethrows
  // the first exception a task threw.
  void run(int n_tasks, const std::function<void(int task)>& fn);
  // Splits [0, n) into contiguous chunks of at least `min_chunk` items (at most 64 chunks;
  // boundaries depend only on n and min_chunk) and calls fn(chunk, begin, end) for each.
  // Returns the number of chunks.
  int for_chunks(int64_t n, int64_t min_chunk,
                 const std::function<void(int chunk, int64_t begin, int64_t end)>& fn);

private:
  std::unique_ptr<ThreadPool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Token embedding: out[t] = table[ids[t]] (table row-major [n_vocab, n_embd]).
template <typename T>
void embedding_forward(const T* table, int n_embd, std::span<const int32_t> ids, Matrix<T>& out);
template <typename T>
void embedding_backward(const Matrix<T>& dout, std::span<const int32_t> ids, T* dtable);

// ---------------------------------------------------------------------------------------------
// RMSNorm over each row: out = x · rstd ⊙ weight, rstd = 1 / sqrt(mean(x²) + eps).
// `rstd` keeps one value per row for the backward pass.
template <typename T>
void rmsnorm_forward(ParallelTasks& parallel, const Matrix<T>& x, const T* weight, T eps,
                     Matrix<T>& out, std::vector<T>& rstd);
template <typename T>
void rmsnorm_backward(ParallelTasks& parallel, const Matrix<T>& dout, const Matrix<T>& x,
                      const T* weight, const std::vector<T>& rstd, Matrix<T>& dx, T* dweight);

// ---------------------------------------------------------------------------------------------
// Linear map without bias: y = x · wᵀ, w row-major [n_out, n_in].
template <typename T>
void linear_forward(ParallelTasks& parallel, const Matrix<T>& x, const T* w, int n_out,
                    Matrix<T>& y);
// dx += dy · w (skipped when dx is null), dw += dyᵀ · x.
template <typename T>
void linear_backward(ParallelTasks& parallel, const Matrix<T>& dy, const Matrix<T>& x, const T* w,
                     Matrix<T>* dx, T* dw);

// ---------------------------------------------------------------------------------------------
// Rotary position embedding with ADJACENT pairs (llama.cpp "normal" mode), in place: in every
// head of every row, the pair (2i, 2i+1) of a token at position p is rotated by the angle
// p · base^(-2i / head_dim), computed in double and rounded like core/backend/cpu_rope.cpp.
// Row r is at position r % seq_len.
template <typename T>
void rope_forward(Matrix<T>& x, int n_heads, int head_dim, int seq_len, float base);
// The rotation is orthogonal: the backward pass rotates the gradient back (angle −θ), in place.
template <typename T>
void rope_backward(Matrix<T>& dx, int n_heads, int head_dim, int seq_len, float base);

// ---------------------------------------------------------------------------------------------
// Causal grouped-query attention. q: [rows, n_head·head_dim], k and v: [rows, n_head_kv·head_dim];
// query head h reads key/value head h / (n_head / n_head_kv). Scores are scaled by 1/√head_dim.
struct AttentionShape {
  int n_seq = 1;
  int seq_len = 1;
  int n_head = 1;
  int n_head_kv = 1;
  int head_dim = 1;
};
// out: [rows, n_head·head_dim]; probs: the softmax weights, [n_seq][n_head][seq_len][seq_len]
// (zero above the diagonal), kept for the backward pass.
template <typename T>
void attention_forward(ParallelTasks& parallel, const Matrix<T>& q, const Matrix<T>& k,
                       const Matrix<T>& v, const AttentionShape& shape, Matrix<T>& out,
                       AlignedVector<T>& probs);
template <typename T>
void attention_backward(ParallelTasks& parallel, const Matrix<T>& dout, const Matrix<T>& q,
                        const Matrix<T>& k, const Matrix<T>& v, const AlignedVector<T>& probs,
                        const AttentionShape& shape, Matrix<T>& dq, Matrix<T>& dk, Matrix<T>& dv);

// ---------------------------------------------------------------------------------------------
// The router rule of the llama architecture, as core/routing/router.cpp applies it:
// p = softmax(logits); the top_k experts by p (ties to the lower id), highest first; gate
// weights w_j = p_j / Σ_chosen p (renormalized). Since w is the softmax of the chosen logits,
// its gradient reaches only the chosen logits.
template <typename T>
struct RouterState {
  int top_k = 0;
  Matrix<T> probs;               // [rows, n_expert]
  std::vector<T> logsumexp;      // [rows]: log Σ_e exp(logit_e), for the z-loss
  std::vector<int32_t> experts;  // [rows · top_k]
  Matrix<T> weights;             // [rows, top_k]
};
template <typename T>
void router_forward(const Matrix<T>& logits, int top_k, RouterState<T>& state);
// dlogits += gradient through the gate weights (dweights [rows, top_k]), through the scores
// (dprobs [rows, n_expert], may be null) and through the logsumexp (dlogsumexp [rows], may be
// null).
template <typename T>
void router_backward(const RouterState<T>& state, const Matrix<T>& dweights,
                     const Matrix<T>* dprobs, const std::vector<T>* dlogsumexp, Matrix<T>& dlogits);

// Switch-transformer load-balancing loss: n_expert · Σ_i f_i · P_i, where f_i is the fraction
// of the rows·top_k assignments that went to expert i (a constant for the gradient) and P_i the
// mean router probability of expert i. 1 when perfectly balanced.
template <typename T>
T load_balance_loss_forward(const RouterState<T>& state);
// dprobs [rows, n_expert] += dloss · ∂loss/∂probs.
template <typename T>
void load_balance_loss_backward(const RouterState<T>& state, T dloss, Matrix<T>& dprobs);

// Router z-loss: mean over rows of logsumexp(logits)².
template <typename T>
T z_loss_forward(const RouterState<T>& state);
template <typename T>
void z_loss_backward(const RouterState<T>& state, T dloss, std::vector<T>& dlogsumexp);

// ---------------------------------------------------------------------------------------------
// One SwiGLU expert: y = (silu(x · w_gateᵀ) ⊙ (x · w_upᵀ)) · w_downᵀ; w_gate and w_up
// [n_ff, n_embd], w_down [n_embd, n_ff]. `gate` and `up` keep the pre-activations. Runs on the
// calling thread (the MoE layer runs experts in parallel).
template <typename T>
void swiglu_forward(const Matrix<T>& x, const T* w_gate, const T* w_up, const T* w_down, int n_ff,
                    Matrix<T>& gate, Matrix<T>& up, Matrix<T>& y);
template <typename T>
void swiglu_backward(const Matrix<T>& dy, const Matrix<T>& x, const Matrix<T>& gate,
                     const Matrix<T>& up, const T* w_gate, const T* w_up, const T* w_down,
                     Matrix<T>& dx, T* dw_gate, T* dw_up, T* dw_down);

// ---------------------------------------------------------------------------------------------
// The routed-experts FFN layer: router logits = x · w_routerᵀ, router rule above, then every
// expert runs once on the rows that chose it, and each row sums w_j · expert_j(x) over its
// chosen experts in expert-id order (as core/backend/cpu_moe_ffn.cpp does).
struct MoeShape {
  int n_embd = 0;
  int n_ff = 0;  // width of each expert
  int n_expert = 0;
  int top_k = 0;
};
// Expert tensors are stacked: w_gate/w_up [n_expert][n_ff][n_embd], w_down
// [n_expert][n_embd][n_ff].
template <typename T>
struct MoeWeights {
  const T* router = nullptr;  // [n_expert, n_embd]
  const T* gate = nullptr;
  const T* up = nullptr;
  const T* down = nullptr;
};
template <typename T>
struct MoeGradients {
  T* router = nullptr;
  T* gate = nullptr;
  T* up = nullptr;
  T* down = nullptr;
};
template <typename T>
struct MoeState {
  Matrix<T> router_logits;  // [rows, n_expert]
  RouterState<T> router;
  // Per expert: the assignments it serves (row · top_k + j, ascending), and its activations.
  std::vector<std::vector<int64_t>> assignments;
  std::vector<Matrix<T>> gate, up, y;
  T load_balance_loss = 0;
  T z_loss = 0;
  std::vector<int64_t> expert_counts;  // assignments per expert
};
template <typename T>
void moe_forward(ParallelTasks& parallel, const Matrix<T>& x, const MoeWeights<T>& weights,
                 const MoeShape& shape, MoeState<T>& state, Matrix<T>& out);
// Adds the gradient of ⟨dout, out⟩ + load_balance_grad · load-balance loss + z_grad · z-loss.
template <typename T>
void moe_backward(ParallelTasks& parallel, const Matrix<T>& dout, const Matrix<T>& x,
                  const MoeWeights<T>& weights, const MoeShape& shape, const MoeState<T>& state,
                  T load_balance_grad, T z_grad, Matrix<T>& dx, const MoeGradients<T>& grads);

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy of logits [rows, n_vocab] against targets: returns the mean over rows of
// −log softmax(logits)[target]; keeps each row's logsumexp. Per-row losses into `row_loss` when
// it is non-null.
template <typename T>
T cross_entropy_forward(ParallelTasks& parallel, const Matrix<T>& logits,
                        std::span<const int32_t> targets, std::vector<T>& logsumexp,
                        std::vector<T>* row_loss = nullptr);
// dlogits = dloss · ∂mean_loss/∂logits (overwritten, not added; may be the same object as logits).
template <typename T>
void cross_entropy_backward(ParallelTasks& parallel, const Matrix<T>& logits,
                            std::span<const int32_t> targets, const std::vector<T>& logsumexp,
                            T dloss, Matrix<T>& dlogits);

}  // namespace moe::train
