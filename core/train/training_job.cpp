// A training run from its config to the exported model (moe/train_job.hpp): the loop, its
// evaluations, JSONL log rows and checkpoints, the same for every caller.
#include <chrono>
#include <cmath>
#include <deque>
#include <nlohmann/json.hpp>

#include "moe/error.hpp"
#include "moe/train_checkpoint.hpp"
#include "moe/train_job.hpp"

namespace moe::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// One JSONL row (invalid UTF-8 in names replaced, never an exception).
std::string jsonl(const json& row) {
  return row.dump(-1, ' ', false, json::error_handler_t::replace);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

PreparedData prepare(const TrainingJobConfig& config, bool resume,
                     const std::function<void(const std::string&)>& log) {
  // A resumed run keeps the tokenizer it was trained with, whatever the corpus is now.
  std::optional<Tokenizer> checkpoint_tokenizer;
  if (resume) {
    if (auto vocab = load_checkpoint_tokenizer(config.checkpoint_path()))
      checkpoint_tokenizer.emplace(*vocab);
  }
  return prepare_data(config.corpus, config.tokenizer, config.cache_dir, config.trainer.n_threads,
                      log, checkpoint_tokenizer ? &*checkpoint_tokenizer : nullptr);
}

}  // namespace

ParameterTotals parameter_totals(const ParameterLayout& layout) {
  const ModelShape& shape = layout.shape();
  uint64_t expert_params = 0;
  for (const auto& tensor : layout.tensors()) {
    if (tensor.name.find("_exps") != std::string::npos) expert_params += tensor.size;
  }
  ParameterTotals totals;
  totals.total = layout.size();
  totals.active_per_token =
      totals.total - expert_params +
      expert_params / static_cast<uint64_t>(shape.n_expert) * static_cast<uint64_t>(shape.top_k);
  return totals;
}

TrainingJob::TrainingJob(TrainingJobConfig config, bool resume,
                         const std::function<void(const std::string&)>& log)
    : config_(std::move(config)), resume_(resume), data_(prepare(config_, resume, log)) {
  config_.trainer.model.n_vocab = data_.tokenizer.n_vocab();
  trainer_ = std::make_unique<Trainer>(config_.trainer, data_.corpus);
  if (resume_) trainer_->load_checkpoint(config_.checkpoint_path());
  last_saved_ = trainer_->steps_done();
}

TrainingJob::~TrainingJob() = default;

void TrainingJob::log_row(const std::string& line) {
  log_ << line << "\n";
  log_.flush();
}

Evaluation TrainingJob::evaluate() {
  const auto start = Clock::now();
  Evaluation evaluation;
  evaluation.step = trainer_->steps_done();
  evaluation.tokens_seen = trainer_->tokens_seen();
  double sum = 0;
  for (size_t d = 0; d < config_.corpus.domains.size(); ++d) {
    const double loss = trainer_->evaluate(d, config_.eval_windows);
    if (std::isfinite(loss)) {
      evaluation.losses.emplace_back(config_.corpus.domains[d], loss);
      sum += loss;
    }
  }
  const size_t counted = evaluation.losses.size();
  evaluation.mean = counted > 0 ? sum / static_cast<double>(counted) : std::nan("");
  evaluation.seconds = seconds_since(start);
  return evaluation;
}

SavedCheckpoint TrainingJob::save_checkpoint() {
  const auto start = Clock::now();
  trainer_->save_checkpoint(config_.checkpoint_path(), &data_.tokenizer);
  last_saved_ = trainer_->steps_done();
  return {trainer_->steps_done(), config_.checkpoint_path(), seconds_since(start)};
}

ExportedModel TrainingJob::export_model(const fs::path& path) const {
  std::string description = config_.description;
  if (!description.empty()) description += " ";
  description += "Trained by moescope-cli train: " + std::to_string(trainer_->steps_done()) +
                 " steps, " + std::to_string(trainer_->tokens_seen()) + " tokens, domains";
  for (const std::string& domain : config_.corpus.domains) description += " " + domain;
  description += ".";
  trainer_->export_gguf(path, data_.tokenizer.vocab(),
                        ExportOptions{config_.name, description, config_.weight_type});
  return {path, static_cast<uint64_t>(fs::file_size(path)), config_.weight_type};
}

bool TrainingJob::run_steps(const TrainingListener& listener,
                            const std::function<bool()>& stop_requested) {
  const TrainerConfig& config = trainer_->config();
  const ModelShape& m = config.model;
  if (!config_.log_file.parent_path().empty())
    fs::create_directories(config_.log_file.parent_path());
  log_.open(config_.log_file, resume_ ? std::ios::app : std::ios::trunc);
  if (!log_) throw Error("cannot write the log file " + config_.log_file.string());
  {  // on a resume too: its config may plan another number of steps
    const ParameterTotals totals = parameters();
    json shape = {{"n_vocab", m.n_vocab},   {"n_ctx", m.n_ctx},
                  {"n_embd", m.n_embd},     {"n_layer", m.n_layer},
                  {"n_head", m.n_head},     {"n_head_kv", m.n_head_kv},
                  {"n_ff_exp", m.n_ff_exp}, {"n_expert", m.n_expert},
                  {"top_k", m.top_k},       {"tied_output", m.tied_output}};
    log_row(jsonl(json{{"type", "config"},
                       {"name", config_.name},
                       {"model", shape},
                       {"domains", config_.corpus.domains},
                       {"batch_tokens", config.batch_seqs * config.seq_len},
                       {"steps", config.optimizer.total_steps},
                       {"parameters", totals.total},
                       {"active_parameters", totals.active_per_token},
                       {"resumed_at_step", resume_ ? trainer_->steps_done() : 0}}));
  }

  const auto run_start = Clock::now();
  std::deque<std::pair<int64_t, double>> recent;          // (tokens, seconds) of the last steps
  const int64_t first_step = trainer_->steps_done() + 1;  // reported even off the print grid
  while (trainer_->steps_done() < config.optimizer.total_steps) {
    if (stop_requested && stop_requested()) return false;
    StepProgress progress;
    progress.stats = trainer_->step();
    const StepStats& stats = progress.stats;
    recent.emplace_back(stats.tokens, stats.seconds);
    if (recent.size() > 50) recent.pop_front();
    int64_t recent_tokens = 0;
    double recent_seconds = 0;
    for (const auto& [tokens, seconds] : recent) {
      recent_tokens += tokens;
      recent_seconds += seconds;
    }
    progress.tokens_seen = trainer_->tokens_seen();
    progress.tokens_per_s =
        recent_seconds > 0 ? static_cast<double>(recent_tokens) / recent_seconds : 0;
    progress.eta_s = recent_seconds / static_cast<double>(recent.size()) *
                     static_cast<double>(config.optimizer.total_steps - stats.step);
    progress.elapsed_s = seconds_since(run_start);
    progress.report = stats.step % config_.print_every == 0 || stats.step == first_step ||
                      stats.step == config.optimizer.total_steps;
    json row = {{"type", "train"},
                {"step", stats.step},
                {"lr", stats.lr},
                {"loss", stats.loss},
                {"load_balance", stats.load_balance},
                {"z_loss", stats.z_loss},
                {"total", stats.total},
                {"grad_norm", stats.grad_norm},
                {"load_cv", stats.expert_load_cv},
                {"tokens", progress.tokens_seen},
                {"tok_per_s", progress.tokens_per_s},
                {"step_s", stats.seconds},
                {"elapsed_s", progress.elapsed_s}};
    const bool eval_now = config_.eval_every > 0 && stats.step % config_.eval_every == 0;
    if (eval_now || stats.step == config.optimizer.total_steps)
      row["expert_counts"] = stats.expert_counts;
    log_row(jsonl(row));
    if (!std::isfinite(stats.total))
      throw Error("the loss is not finite at step " + std::to_string(stats.step));
    if (listener.on_step) listener.on_step(progress);
    if (eval_now) log_evaluation(listener);
    if (config_.checkpoint_every > 0 && stats.step % config_.checkpoint_every == 0) {
      const SavedCheckpoint saved = save_checkpoint();
      if (listener.on_checkpoint) listener.on_checkpoint(saved);
    }
  }
  return true;
}

void TrainingJob::log_evaluation(const TrainingListener& listener) {
  const Evaluation evaluation = evaluate();
  if (listener.on_evaluation) listener.on_evaluation(evaluation);
  json losses = json::object();
  for (const auto& [domain, loss] : evaluation.losses) losses[domain] = loss;
  log_row(jsonl(json{{"type", "eval"},
                     {"step", evaluation.step},
                     {"tokens", evaluation.tokens_seen},
                     {"val_loss", losses},
                     {"val_loss_mean", evaluation.mean},
                     {"seconds", evaluation.seconds}}));
}

void TrainingJob::finish(bool completed, const TrainingListener& listener) {
  if (trainer_->steps_done() != last_saved_) {
    const SavedCheckpoint saved = save_checkpoint();
    if (listener.on_checkpoint) listener.on_checkpoint(saved);
  }
  if (!completed) return;
  if (config_.eval_every == 0 || trainer_->steps_done() % config_.eval_every != 0)
    log_evaluation(listener);
  const ExportedModel exported = export_model(config_.gguf_out);
  if (listener.on_export) listener.on_export(exported);
}

}  // namespace moe::train
