// The training loop (see train_loop.hpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "moe/error.hpp"
#include "moe/train_loop.hpp"

namespace moe::train {

void TrainerConfig::validate() const {
  model.validate();
  optimizer.validate();
  if (seq_len < 1 || seq_len > model.n_ctx) {
    throw Error("seq_len must be within [1, n_ctx = " + std::to_string(model.n_ctx) + "], got " +
                std::to_string(seq_len));
  }
  if (batch_seqs < 1 || micro_batch_seqs < 1)
    throw Error("batch_seqs and micro_batch_seqs must be positive");
  if (loss.load_balance < 0 || loss.z_loss < 0)
    throw Error("auxiliary loss weights must not be negative");
}

double mean_load_cv(const std::vector<std::vector<int64_t>>& expert_counts) {
  if (expert_counts.empty()) return 0;
  double sum_cv = 0;
  for (const std::vector<int64_t>& counts : expert_counts) {
    if (counts.empty()) continue;
    double mean = 0, var = 0;
    for (int64_t c : counts) mean += static_cast<double>(c);
    mean /= static_cast<double>(counts.size());
    for (int64_t c : counts)
      var += (static_cast<double>(c) - mean) * (static_cast<double>(c) - mean);
    var /= static_cast<double>(counts.size());
    sum_cv += mean > 0 ? std::sqrt(var) / mean : 0;
  }
  return sum_cv / static_cast<double>(expert_counts.size());
}

Trainer::Trainer(const TrainerConfig& config, const TokenCorpus& corpus)
    : config_(config),
      corpus_(corpus),
      layout_((config.validate(), config.model)),
      parallel_(std::make_unique<ParallelTasks>(config.n_threads)),
      params_(layout_.size()),
      grads_(layout_.size(), 0.0f),
      optimizer_(std::make_unique<AdamW>(layout_, config.optimizer)),
      model_(std::make_unique<Transformer<float>>(layout_, *parallel_)) {
  init_parameters(layout_, config.seed, params_);
}

Trainer::~Trainer() = default;

void Trainer::load_checkpoint(const std::filesystem::path& path) {
  CheckpointData data = train::load_checkpoint(path);
  if (!(data.shape == config_.model)) {
    throw Error("checkpoint " + path.string() + " holds a model of another shape than the config");
  }
  params_.assign(data.params.begin(), data.params.end());
  std::copy(data.adam_m.begin(), data.adam_m.end(), optimizer_->first_moment().begin());
  std::copy(data.adam_v.begin(), data.adam_v.end(), optimizer_->second_moment().begin());
  step_ = data.step;
  tokens_seen_ = data.tokens_seen;
  config_.seed = data.seed;
}

void Trainer::save_checkpoint(const std::filesystem::path& path, const Tokenizer* tokenizer) const {
  CheckpointData data;
  if (tokenizer != nullptr) data.tokenizer = tokenizer->vocab();
  data.shape = config_.model;
  data.seed = config_.seed;
  data.step = step_;
  data.tokens_seen = tokens_seen_;
  data.params.assign(params_.begin(), params_.end());
  const std::span<const float> m = optimizer_->first_moment(), v = optimizer_->second_moment();
  data.adam_m.assign(m.begin(), m.end());
  data.adam_v.assign(v.begin(), v.end());
  train::save_checkpoint(path, data);
}

StepStats Trainer::step() {
  const auto start = std::chrono::steady_clock::now();
  const int seq_len = config_.seq_len, batch = config_.batch_seqs;
  corpus_.sample_batch(config_.seed, step_, batch, seq_len, inputs_, targets_);
  std::fill(grads_.begin(), grads_.end(), 0.0f);

  StepStats stats;
  for (int first = 0; first < batch; first += config_.micro_batch_seqs) {
    const int n_seq = std::min(config_.micro_batch_seqs, batch - first);
    const size_t begin = static_cast<size_t>(first) * static_cast<size_t>(seq_len);
    const size_t count = static_cast<size_t>(n_seq) * static_cast<size_t>(seq_len);
    const std::span<const int32_t> inputs(inputs_.data() + begin, count),
        targets(targets_.data() + begin, count);
    const ForwardStats forward =
        model_->forward(params_.data(), inputs, targets, n_seq, seq_len, config_.loss);
    const double share =
        static_cast<double>(n_seq) / batch;  // the step's loss is the mean over all windows
    model_->backward(params_.data(), grads_.data(), static_cast<float>(share));
    stats.loss += share * forward.cross_entropy;
    stats.load_balance += share * forward.load_balance;
    stats.z_loss += share * forward.z_loss;
    stats.total += share * forward.total;
    if (stats.expert_counts.empty()) {
      stats.expert_counts = forward.expert_counts;
    } else {
      for (size_t l = 0; l < forward.expert_counts.size(); ++l) {
        for (size_t e = 0; e < forward.expert_counts[l].size(); ++e)
          stats.expert_counts[l][e] += forward.expert_counts[l][e];
      }
    }
  }
  stats.lr = learning_rate(config_.optimizer, step_);
  stats.grad_norm = optimizer_->update(*parallel_, params_, grads_, step_);
  ++step_;
  stats.step = step_;
  stats.tokens = static_cast<int64_t>(batch) * seq_len;
  tokens_seen_ += stats.tokens;
  stats.expert_load_cv = mean_load_cv(stats.expert_counts);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

double Trainer::evaluate(size_t domain, int max_windows) {
  std::vector<int32_t> inputs, targets;
  const int seq_len = config_.seq_len;
  const int n = corpus_.validation_windows(domain, seq_len, max_windows, inputs, targets);
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (int first = 0; first < n; first += config_.micro_batch_seqs) {
    const int n_seq = std::min(config_.micro_batch_seqs, n - first);
    const size_t begin = static_cast<size_t>(first) * static_cast<size_t>(seq_len);
    const size_t count = static_cast<size_t>(n_seq) * static_cast<size_t>(seq_len);
    const ForwardStats forward =
        model_->forward(params_.data(), std::span(inputs.data() + begin, count),
                        std::span(targets.data() + begin, count), n_seq, seq_len, config_.loss);
    sum += forward.cross_entropy * n_seq;
  }
  return sum / n;
}

std::vector<float> Trainer::logits(std::span<const int32_t> tokens) {
  model_->forward(params_.data(), tokens, {}, 1, static_cast<int>(tokens.size()), config_.loss);
  const Matrix<float>& logits = model_->logits();
  return std::vector<float>(logits.data(), logits.data() + logits.size());
}

std::vector<std::vector<int32_t>> Trainer::top1_experts(std::span<const int32_t> tokens, int n_seq,
                                                        int seq_len) {
  model_->forward(params_.data(), tokens, {}, n_seq, seq_len, config_.loss);
  const int top_k = config_.model.top_k;
  std::vector<std::vector<int32_t>> experts(static_cast<size_t>(config_.model.n_layer));
  for (int layer = 0; layer < config_.model.n_layer; ++layer) {
    const std::vector<int32_t>& chosen = model_->router_state(layer).experts;
    std::vector<int32_t>& first = experts[static_cast<size_t>(layer)];
    first.reserve(tokens.size());
    for (size_t row = 0; row < tokens.size(); ++row)
      first.push_back(chosen[row * static_cast<size_t>(top_k)]);
  }
  return experts;
}

void Trainer::export_gguf(const std::filesystem::path& path, const TokenizerVocab& vocab,
                          const ExportOptions& options) const {
  train::export_gguf(path, layout_, params_, vocab, options);
}

}  // namespace moe::train
