#pragma once
// Figures of a training run: the loss curves and the routers' load balance step by step. They are
// built from a TrainingLog, a plain copy of the rows `moescope-cli train` writes to its JSONL log
// (the CLI reads the JSON; the core reads none).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "moe/plot/figure.hpp"

namespace moe::plot {

// One optimizer step. Values the log did not have (or wrote as null: not finite) are NaN and
// are left out of the figures.
struct TrainingStep {
  int64_t step = 0;
  int64_t tokens = 0;  // tokens seen after this step (0 when unknown)
  double loss = 0;     // cross-entropy of the batch, nats per token
  double lr = 0;
  double load_cv = 0;       // mean over MoE layers of std / mean of the experts' token counts
  double load_balance = 0;  // load-balancing (Switch aux) loss, mean over layers; 1 = even
  double tok_per_s = 0;
};

// One evaluation on the held-out text of every domain.
struct TrainingEval {
  int64_t step = 0;
  int64_t tokens = 0;
  std::vector<std::pair<std::string, double>> val_loss;  // (domain, loss in nats per token)
  double val_loss_mean = 0;
};

struct TrainingLog {
  std::string name;                  // the model's name from the config row (may be empty)
  std::vector<std::string> domains;  // in the config's order (may be empty)
  int64_t planned_steps = 0;         // the run's total steps (0 when unknown)
  int64_t batch_tokens = 0;          // tokens per step (0 when unknown)
  std::vector<TrainingStep> steps;   // in step order
  std::vector<TrainingEval> evals;   // in step order
};

// values[i] replaced by the mean of the finite values among values[i - window + 1 .. i]
// (fewer at the start); NaN where that range holds none. window < 1 counts as 1.
std::vector<double> running_mean(const std::vector<double>& values, int window);

// Training loss per step, faint, with its running mean over `smooth_window` steps drawn over it,
// and the validation loss of each domain at the evaluation steps (one line per domain, in the
// config's domain order, labelled with the domain in the legend). x: step, y: loss in nats.
// Lines: [raw train loss, smoothed train loss, one per domain].
Figure training_loss_figure(const TrainingLog& log, int smooth_window = 20);

// Mean expert-load CV and the load-balancing loss per step, each faint with its running mean
// over it. Lines: [raw CV, smoothed CV, raw balance loss, smoothed balance loss, even-load
// reference at 1].
Figure training_balance_figure(const TrainingLog& log, int smooth_window = 20);

}  // namespace moe::plot
