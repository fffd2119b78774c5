// `moescope-cli plot-training LOG --out FILE [--kind loss|balance]`: draws the curves of a training
// run from the JSONL log `moescope-cli train` writes (data/train/train_log.jsonl by default) as
// PNG, SVG or PDF. It may run while the training still writes the log: an unfinished last line is
// skipped with a note.
//
// Kinds: loss (training loss per step with its running mean, validation loss per domain at the
// evaluations), balance (mean expert-load CV and load-balancing loss per step).
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>

#include "cli_common.hpp"
#include "figure_output.hpp"
#include "moe/error.hpp"
#include "moe/plot/export.hpp"
#include "moe/plot/training_figures.hpp"

namespace moescope::cli {

namespace {

using nlohmann::json;
namespace plot = moe::plot;

struct PlotTrainingArgs {
  std::string log_path;
  FigureOutputArgs output;
  std::string kind = "loss";
  int smooth = 20;
};

// Where a log row came from, for messages: "LOG:12".
std::string where(const std::string& path, size_t line) {
  return path + ":" + std::to_string(line);
}

// A number field: NaN when absent or null (JSON has no NaN: the trainer writes null there).
double number_or_nan(const json& row, const char* key, const std::string& at) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!it->is_number())
    throw moe::Error(at + ": \"" + key + "\" should be a number, not " + it->dump());
  return it->get<double>();
}

// A non-negative whole number field; `required` ones must be there.
int64_t count_field(const json& row, const char* key, const std::string& at, bool required) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) {
    if (required) throw moe::Error(at + ": the row has no \"" + key + "\"");
    return 0;
  }
  if (!it->is_number() || it->get<double>() < 0 ||
      it->get<double>() != std::floor(it->get<double>()))
    throw moe::Error(at + ": \"" + key + "\" should be a whole number >= 0, not " + it->dump());
  return static_cast<int64_t>(it->get<double>());
}

// Appends a row in step order. A resumed run repeats the steps after its last checkpoint: the
// later rows replace the earlier ones from that step on.
template <typename Row>
void append_in_order(std::vector<Row>& rows, Row row) {
  while (!rows.empty() && rows.back().step >= row.step) rows.pop_back();
  rows.push_back(std::move(row));
}

void read_config(const json& row, const std::string& at, plot::TrainingLog& log) {
  if (const auto it = row.find("name"); it != row.end() && it->is_string())
    log.name = it->get<std::string>();
  if (const auto it = row.find("domains"); it != row.end()) {
    if (!it->is_array()) throw moe::Error(at + ": \"domains\" should be a list of names");
    log.domains.clear();
    for (const json& domain : *it) {
      if (!domain.is_string()) throw moe::Error(at + ": \"domains\" should be a list of names");
      log.domains.push_back(domain.get<std::string>());
    }
  }
  log.planned_steps = count_field(row, "steps", at, false);
  log.batch_tokens = count_field(row, "batch_tokens", at, false);
}

plot::TrainingStep read_step(const json& row, const std::string& at) {
  plot::TrainingStep step;
  step.step = count_field(row, "step", at, true);
  step.tokens = count_field(row, "tokens", at, false);
  if (!row.contains("loss")) throw moe::Error(at + ": the training row has no \"loss\"");
  step.loss = number_or_nan(row, "loss", at);
  step.lr = number_or_nan(row, "lr", at);
  step.load_cv = number_or_nan(row, "load_cv", at);
  step.load_balance = number_or_nan(row, "load_balance", at);
  step.tok_per_s = number_or_nan(row, "tok_per_s", at);
  return step;
}

plot::TrainingEval read_eval(const json& row, const std::string& at) {
  plot::TrainingEval eval;
  eval.step = count_field(row, "step", at, true);
  eval.tokens = count_field(row, "tokens", at, false);
  const auto losses = row.find("val_loss");
  if (losses == row.end() || !losses->is_object())
    throw moe::Error(at + ": the eval row needs \"val_loss\": {domain: loss, ...}");
  for (const auto& [domain, loss] : losses->items()) {
    if (!loss.is_number() && !loss.is_null())
      throw moe::Error(at + ": val_loss of \"" + domain + "\" should be a number, not " +
                       loss.dump());
    eval.val_loss.emplace_back(
        domain, loss.is_number() ? loss.get<double>() : std::numeric_limits<double>::quiet_NaN());
  }
  eval.val_loss_mean = number_or_nan(row, "val_loss_mean", at);
  return eval;
}

plot::TrainingLog read_training_log(const std::string& path) {
  const std::string text = read_text_file(path);
  plot::TrainingLog log;
  size_t line_number = 0;
  bool any_row = false;
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const bool last_unfinished = end == text.size();  // no newline yet: still being written?
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string at = where(path, line_number);
    json row;
    try {
      row = json::parse(line);
    } catch (const json::parse_error& error) {
      if (last_unfinished && any_row) {
        std::cerr << "moescope-cli: note: " << at
                  << " is unfinished (is the training still writing it?): skipped\n";
        break;
      }
      throw moe::Error(at + ": not a JSON row (" + std::string(error.what()) + ")");
    }
    if (!row.is_object()) throw moe::Error(at + ": a log row should be a JSON object {...}");
    any_row = true;
    const auto type = row.find("type");
    const std::string kind = type != row.end() && type->is_string() ? type->get<std::string>() : "";
    if (kind == "config") {
      read_config(row, at, log);
    } else if (kind == "eval") {
      append_in_order(log.evals, read_eval(row, at));
    } else if (kind == "train" || (kind.empty() && row.contains("step"))) {
      append_in_order(log.steps, read_step(row, at));
    } else if (kind.empty()) {
      throw moe::Error(at +
                       ": neither a config, training-step nor eval row (no \"type\", no "
                       "\"step\")");
    }
    // Rows of other types (added by later versions of train) are not drawn.
  }
  if (line_number == 0 || !any_row)
    throw moe::Error(path + " is empty: no rows to plot (is it the train_log.jsonl of a run?)");
  if (log.steps.empty() && log.evals.empty())
    throw moe::Error(path + " has no training steps yet: nothing to plot");
  return log;
}

void run_plot_training(const PlotTrainingArgs& args) {
  // Check the options (and the format the extension names) before reading the log.
  const plot::ExportOptions options = figure_export_options(args.output);

  const plot::TrainingLog log = read_training_log(args.log_path);
  plot::Figure figure;
  if (args.kind == "balance") {
    if (log.steps.empty()) throw moe::Error(args.log_path + " has no training steps: no balance");
    figure = plot::training_balance_figure(log, args.smooth);
  } else {
    figure = plot::training_loss_figure(log, args.smooth);
  }
  write_figure(figure, args.output.out_path, options,
               std::to_string(log.steps.size()) + " steps, " + std::to_string(log.evals.size()) +
                   " evaluations");
}

}  // namespace

void register_plot_training(CLI::App& app) {
  auto args = std::make_shared<PlotTrainingArgs>();
  auto* command = app.add_subcommand(
      "plot-training",
      "Draw the loss or load-balance curves of a training run from its JSONL log as PNG, SVG "
      "or PDF");
  command
      ->add_option("LOG", args->log_path,
                   "The run's JSONL log, written by moescope-cli train (e.g. "
                   "data/train/train_log.jsonl)")
      ->required();
  add_figure_output_options(*command, args->output);
  command
      ->add_option("--kind,-k", args->kind,
                   "loss (default: training and validation loss) | balance (expert-load CV and "
                   "load-balancing loss)")
      ->check(CLI::IsMember({"loss", "balance"}));
  command->add_option("--smooth", args->smooth, "Steps in the running mean (default 20)")
      ->check(CLI::Range(1, 100000));
  command->callback([args] { run_plot_training(*args); });
}

}  // namespace moescope::cli
