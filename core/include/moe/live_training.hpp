#pragma once
// Live training for the classroom: a tiny MoE trained step by step on the small corpus sample
// shipped in assets/train/sample, with the bundled model's tokenizer (so the result opens in
// every view), recording per step the loss and how the routers spread the tokens over the
// experts, and every few steps how much the top-1 expert says about the domain of the text.
// The knobs are the ones that decide whether the experts collapse: the number of experts, top-k,
// the load-balancing loss weight (0: nothing stops a few experts from taking every token), the
// router z-loss, the learning rate and the seed. Window-free: the GUI runs it on a worker thread.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "moe/tokenizer.hpp"
#include "moe/train_data.hpp"
#include "moe/train_job.hpp"
#include "moe/train_loop.hpp"

namespace moe::train {

struct LiveTrainingKnobs {
  int n_expert = 8;
  int top_k = 2;
  double load_balance = 0.05;  // weight of the Switch load-balancing loss; 0 lets experts collapse
  double z_loss = 0.001;       // weight of the router z-loss
  double lr = 3e-3;            // peak learning rate (short warmup, then constant)
  uint64_t seed = 1;           // initialization and data order

  void validate() const;  // throws moe::Error naming the knob
  bool operator==(const LiveTrainingKnobs&) const = default;
};

// The fixed part: small enough that a step takes a fraction of a second on two cores.
struct LiveTrainingShape {
  int n_layer = 4;
  int n_embd = 64;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff_exp = 128;
  int seq_len = 64;
  int batch_seqs = 16;             // windows per step (seq_len · batch_seqs tokens)
  int warmup_steps = 20;           // linear warmup, then the learning rate stays at its peak
  int specialization_every = 10;   // steps between domain-specialization measurements
  int specialization_windows = 4;  // validation windows per domain for each measurement
};

// The sample's token streams, tokenized once and shared by every LiveTraining built on them.
struct LiveTrainingData {
  Tokenizer tokenizer;
  TokenCorpus corpus;
  std::vector<std::string> domains;
  int64_t train_tokens = 0, val_tokens = 0;
};

// Reads <sample_dir>/<domain>/{train,val}.txt for every domain folder found there (sorted by
// the order of the bundled corpus: english, code, german, french, spanish, russian, maths, then
// any other), tokenized with the tokenizer of `tokenizer_model` (a GGUF file). Throws
// moe::Error naming the file or folder that is missing or unreadable.
std::shared_ptr<const LiveTrainingData> load_live_training_data(
    const std::filesystem::path& sample_dir, const std::filesystem::path& tokenizer_model,
    int n_threads = 0);

// One optimizer step.
struct LiveStep {
  int64_t step = 0;         // steps done after this one
  int64_t tokens = 0;       // tokens seen after this one
  double loss = 0;          // cross-entropy, nats per token
  double load_balance = 0;  // Switch loss, mean over layers (1 = even)
  double z_loss = 0;
  double load_cv = 0;    // std / mean of the experts' assignment counts, mean over layers
  double top_share = 0;  // share of the assignments taken by the busiest expert, mean over layers
  std::vector<std::vector<int64_t>> expert_counts;  // [layer][expert]
  double seconds = 0;
};

// I(domain; top-1 expert) per layer over a few validation windows of every domain.
struct LiveSpecialization {
  int64_t step = 0;
  std::vector<double> mi_bits;                            // [layer]
  std::vector<std::vector<std::vector<long long>>> top1;  // [layer][domain][expert]
};

class LiveTraining {
public:
  LiveTraining(std::shared_ptr<const LiveTrainingData> data, const LiveTrainingKnobs& knobs,
               const LiveTrainingShape& shape = {}, int n_threads = 0);

  // One optimizer step; every shape.specialization_every steps (and at step 0, before any
  // training) also measures the domain specialization.
  const LiveStep& step();
  // Measures (and records) the specialization of the current parameters now.
  const LiveSpecialization& measure_specialization();

  const LiveTrainingKnobs& knobs() const { return knobs_; }
  const LiveTrainingShape& shape() const { return shape_; }
  const LiveTrainingData& data() const { return *data_; }
  const ModelShape& model_shape() const { return trainer_->config().model; }
  int64_t steps_done() const { return trainer_->steps_done(); }
  ParameterTotals parameters() const { return parameter_totals(trainer_->layout()); }
  const std::vector<LiveStep>& steps() const { return steps_; }
  const std::vector<LiveSpecialization>& specializations() const { return specializations_; }

  // Writes the current weights as a GGUF model (F32 matrices) with the sample's tokenizer.
  void export_gguf(const std::filesystem::path& path) const;

private:
  std::shared_ptr<const LiveTrainingData> data_;
  LiveTrainingKnobs knobs_;
  LiveTrainingShape shape_;
  std::unique_ptr<Trainer> trainer_;
  std::vector<LiveStep> steps_;
  std::vector<LiveSpecialization> specializations_;
};

// Share of the assignments taken by each layer's busiest expert, averaged over layers.
double mean_top_share(const std::vector<std::vector<int64_t>>& expert_counts);

}  // namespace moe::train
