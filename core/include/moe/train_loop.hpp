#pragma once
// The training loop: one Trainer owns the parameters, their gradients, the AdamW state and the
// model's activations, draws its batches from a TokenCorpus and takes optimizer steps.
// Everything it computes is deterministic: the same config, data and thread count give
// bit-identical parameters, also across a checkpoint and resume.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "moe/train_checkpoint.hpp"
#include "moe/train_data.hpp"
#include "moe/train_model.hpp"
#include "moe/train_model_to_gguf.hpp"
#include "moe/train_optim.hpp"

namespace moe::train {

struct TrainerConfig {
  ModelShape model;
  OptimizerConfig optimizer;
  LossWeights loss;
  int seq_len = 256;         // tokens per training window (<= model.n_ctx)
  int batch_seqs = 32;       // windows per optimizer step
  int micro_batch_seqs = 8;  // windows per forward/backward pass (bounds activation memory)
  uint64_t seed = 1;         // initialization and data order
  int n_threads = 0;         // 0: all hardware threads

  void validate() const;  // throws moe::Error
};

struct StepStats {
  int64_t step = 0;  // steps done after this one
  double lr = 0;
  double loss = 0;          // cross-entropy, mean over the step's tokens
  double load_balance = 0;  // mean over layers (and micro-batches)
  double z_loss = 0;
  double total = 0;           // the optimized loss
  double grad_norm = 0;       // before clipping
  double expert_load_cv = 0;  // mean over layers of std/mean of the experts' assignment counts
  std::vector<std::vector<int64_t>> expert_counts;  // [layer][expert]
  int64_t tokens = 0;                               // tokens in this step
  double seconds = 0;
};

// std/mean of each layer's counts, averaged over layers (0 = perfectly balanced).
double mean_load_cv(const std::vector<std::vector<int64_t>>& expert_counts);

class Trainer {
public:
  // A fresh model initialized from config.seed. The corpus must outlive the trainer.
  Trainer(const TrainerConfig& config, const TokenCorpus& corpus);
  ~Trainer();

  // Continues from a checkpoint: parameters, AdamW moments, step, tokens seen and seed. The
  // model shape must equal the config's; optimizer settings come from the config (so a run can
  // be extended). Throws moe::Error.
  void load_checkpoint(const std::filesystem::path& path);
  // Saves parameters, AdamW state, step, seed and (when given) the tokenizer.
  void save_checkpoint(const std::filesystem::path& path,
                       const Tokenizer* tokenizer = nullptr) const;

  // One optimizer step on the next batch.
  StepStats step();
  // Mean cross-entropy over up to max_windows consecutive validation windows of a domain
  // (NaN when the domain has no validation window).
  double evaluate(size_t domain, int max_windows);

  const TrainerConfig& config() const { return config_; }
  const ParameterLayout& layout() const { return layout_; }
  int64_t steps_done() const { return step_; }
  int64_t tokens_seen() const { return tokens_seen_; }
  std::span<const float> params() const { return params_; }
  std::span<float> mutable_params() { return params_; }

  // Logits of every position for one sequence (for checks against the inference engine).
  std::vector<float> logits(std::span<const int32_t> tokens);
  // Each row's first-choice expert at every MoE layer, [layer][row], for n_seq windows of
  // seq_len tokens (a forward pass without targets; parameters are not changed).
  std::vector<std::vector<int32_t>> top1_experts(std::span<const int32_t> tokens, int n_seq,
                                                 int seq_len);

  void export_gguf(const std::filesystem::path& path, const TokenizerVocab& vocab,
                   const ExportOptions& options) const;

private:
  TrainerConfig config_;
  const TokenCorpus& corpus_;
  ParameterLayout layout_;
  std::unique_ptr<ParallelTasks> parallel_;
  AlignedVector<float> params_, grads_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<Transformer<float>> model_;
  int64_t step_ = 0;
  int64_t tokens_seen_ = 0;
  std::vector<int32_t> inputs_, targets_;
};

}  // namespace moe::train
