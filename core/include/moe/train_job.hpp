#pragma once
// A training run from its config (moe/train_job_config.hpp) to the exported GGUF model: the
// data prepared (tokenizer trained or taken from the checkpoint), the trainer built or resumed,
// the steps run with evaluation per domain, a JSONL log (one row per step and per evaluation)
// and atomic checkpoints, then the final evaluation and the export. `moescope-cli train` drives
// it and prints what the listener hears; stopping early (Ctrl-C) is the caller's signal.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "moe/ggml_types.hpp"
#include "moe/tokenizer.hpp"
#include "moe/train_data.hpp"
#include "moe/train_job_config.hpp"
#include "moe/train_loop.hpp"

namespace moe::train {

// Parameters of a model of this layout: all of them, and those one token uses (every tensor
// but the routed experts', plus top_k of n_expert experts).
struct ParameterTotals {
  uint64_t total = 0;
  uint64_t active_per_token = 0;
};
ParameterTotals parameter_totals(const ParameterLayout& layout);

// After each step.
struct StepProgress {
  StepStats stats;
  int64_t tokens_seen = 0;
  double tokens_per_s = 0;  // over the last 50 steps
  double eta_s = 0;         // at that pace, until the configured last step
  double elapsed_s = 0;     // since run_steps began
  bool report = false;      // on the config's print_every grid, the first step or the last
};

struct Evaluation {
  int64_t step = 0;
  int64_t tokens_seen = 0;
  std::vector<std::pair<std::string, double>> losses;  // per domain with validation windows
  double mean = 0;                                     // NaN when no domain has any
  double seconds = 0;
};

struct SavedCheckpoint {
  int64_t step = 0;
  std::filesystem::path path;
  double seconds = 0;
};

struct ExportedModel {
  std::filesystem::path path;
  uint64_t bytes = 0;
  GgmlType weight_type = GgmlType::F32;
};

// What a run reports while it goes; any of them may be empty.
struct TrainingListener {
  std::function<void(const StepProgress&)> on_step;
  std::function<void(const Evaluation&)> on_evaluation;
  std::function<void(const SavedCheckpoint&)> on_checkpoint;
  std::function<void(const ExportedModel&)> on_export;
};

class TrainingJob {
public:
  // Prepares the data and builds the trainer; with `resume`, loads the checkpoint (parameters,
  // optimizer state, step) and keeps the tokenizer it was trained with. `log` hears the data
  // preparation's lines.
  TrainingJob(TrainingJobConfig config, bool resume,
              const std::function<void(const std::string&)>& log = {});
  ~TrainingJob();
  TrainingJob(const TrainingJob&) = delete;  // the trainer keeps a reference to the corpus
  TrainingJob& operator=(const TrainingJob&) = delete;

  const TrainingJobConfig& config() const { return config_; }
  const Trainer& trainer() const { return *trainer_; }
  const Tokenizer& tokenizer() const { return data_.tokenizer; }
  bool resumed() const { return resume_; }
  ParameterTotals parameters() const { return parameter_totals(trainer_->layout()); }

  // Steps until the configured last one, or until stop_requested() says so before a step:
  // each step logged, evaluated and checkpointed as configured. Opens the log first (a fresh
  // run truncates it and writes a config row; a resumed run appends). Throws moe::Error when
  // the loss is not finite. Returns true when every configured step is done.
  bool run_steps(const TrainingListener& listener, const std::function<bool()>& stop_requested);
  // After run_steps: a checkpoint of the last step if it has none yet; then, if `completed`,
  // the final evaluation (unless that step was just evaluated) and the export to gguf_out.
  void finish(bool completed, const TrainingListener& listener);

  // Validation loss per domain of the current parameters.
  Evaluation evaluate();
  SavedCheckpoint save_checkpoint();
  // Writes the model as GGUF (config's name and weight type; the description says how it was
  // trained).
  ExportedModel export_model(const std::filesystem::path& path) const;

private:
  void log_row(const std::string& line);
  void log_evaluation(const TrainingListener& listener);  // evaluates, reports, logs the row

  TrainingJobConfig config_;
  bool resume_ = false;
  PreparedData data_;
  std::unique_ptr<Trainer> trainer_;
  std::ofstream log_;
  int64_t last_saved_ = 0;  // the step of the newest checkpoint
};

}  // namespace moe::train
