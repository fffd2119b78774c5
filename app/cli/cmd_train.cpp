// `moescope-cli train CONFIG [--resume | --fresh] [--export-only] [--threads N]`: trains a small
// MoE model from a JSON config (model shape, tokenizer, data, optimizer, seed, outputs; see
// assets/train/default.json) with moe::train::TrainingJob, printing a progress line per
// print_every steps, each evaluation, checkpoint and export; saves a checkpoint on Ctrl-C /
// SIGTERM. The job (moe/train_job.hpp) does the work; this file has the flags and the printing.
// Relative paths in the config are taken from the current directory.
#include <malloc.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "moe/error.hpp"
#include "moe/openblas_setup.hpp"
#include "moe/train_job.hpp"

namespace moescope::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_stop_requested{false};
extern "C" void on_stop_signal(int) { g_stop_requested.store(true); }

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = static_cast<long>(seconds + 0.5);
  std::ostringstream out;
  out << total / 3600 << ":" << std::setw(2) << std::setfill('0') << (total / 60) % 60 << ":"
      << std::setw(2) << std::setfill('0') << total % 60;
  return out.str();
}

std::string now_text() {
  const std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", std::localtime(&now));
  return buffer;
}

void print_step(const moe::train::StepProgress& progress, int64_t total_steps, std::ostream& out) {
  if (!progress.report) return;
  const moe::train::StepStats& stats = progress.stats;
  out << now_text() << " step " << stats.step << "/" << total_steps << " | lr " << std::scientific
      << std::setprecision(2) << stats.lr << std::fixed << " | loss " << std::setprecision(3)
      << stats.loss << " (lb " << std::setprecision(3) << stats.load_balance << ", z "
      << std::setprecision(2) << stats.z_loss << ") | gnorm " << std::setprecision(2)
      << stats.grad_norm << " | " << std::setprecision(0) << progress.tokens_per_s
      << " tok/s | load cv " << std::setprecision(3) << stats.expert_load_cv << " | elapsed "
      << duration_text(progress.elapsed_s) << " | eta " << duration_text(progress.eta_s)
      << std::endl;
}

void print_evaluation(const moe::train::Evaluation& evaluation, std::ostream& out) {
  std::ostringstream line;
  line << std::fixed << std::setprecision(3);
  for (const auto& [domain, loss] : evaluation.losses) line << " " << domain << " " << loss;
  out << "eval  step " << evaluation.step << " | val loss mean " << std::fixed
      << std::setprecision(3) << evaluation.mean << " (ppl " << std::setprecision(1)
      << std::exp(evaluation.mean) << ") |" << line.str() << " | " << std::setprecision(1)
      << evaluation.seconds << " s" << std::endl;
}

void print_checkpoint(const moe::train::SavedCheckpoint& saved, std::ostream& out) {
  out << "checkpoint step " << saved.step << " -> " << saved.path.string() << " (" << std::fixed
      << std::setprecision(1) << saved.seconds << " s)" << std::endl;
}

void print_export(const moe::train::ExportedModel& exported, std::ostream& out) {
  out << "exported " << exported.path.string() << " (" << std::fixed << std::setprecision(1)
      << static_cast<double>(exported.bytes) / 1e6 << " MB, "
      << moe::type_name(exported.weight_type) << ")" << std::endl;
}

void print_plan(const moe::train::TrainingJob& job, std::ostream& out) {
  const moe::train::TrainerConfig& config = job.trainer().config();
  const moe::train::ModelShape& m = config.model;
  const moe::train::ParameterTotals parameters = job.parameters();
  out << "model: " << m.n_layer << " layers, width " << m.n_embd << ", " << m.n_head << "/"
      << m.n_head_kv << " heads, " << m.n_expert << " experts of " << m.n_ff_exp << " (top-"
      << m.top_k << "), vocab " << m.n_vocab << (m.tied_output ? ", tied head" : "") << " | "
      << std::fixed << std::setprecision(2) << parameters.total / 1e6 << " M parameters, "
      << parameters.active_per_token / 1e6 << " M active per token" << std::endl;
  out << "batch: " << config.batch_seqs << " x " << config.seq_len << " tokens (micro-batches of "
      << config.micro_batch_seqs << "), " << config.optimizer.total_steps
      << " steps = " << std::setprecision(1)
      << static_cast<double>(config.optimizer.total_steps) * config.batch_seqs * config.seq_len /
             1e6
      << " M tokens" << std::endl;
  out << "matrix products: OpenBLAS, kernels " << moe::openblas_kernels_summary()
      << std::endl;
}

struct TrainArgs {
  std::string config_path;
  bool resume = false;
  bool fresh = false;
  bool export_only = false;
  std::string export_path;
  int threads = -1;
};

void run_train(const TrainArgs& args) {
  moe::train::TrainingJobConfig config = moe::train::read_training_config(args.config_path);
  if (args.threads >= 0) config.trainer.n_threads = args.threads;
  std::ostream& out = std::cout;
  const bool have_checkpoint = fs::exists(config.checkpoint_path());
  if (args.export_only && !have_checkpoint) {
    throw moe::Error("--export-only: no checkpoint at " + config.checkpoint_path().string());
  }
  if (!args.export_only && args.resume && !have_checkpoint) {
    throw moe::Error("--resume: no checkpoint at " + config.checkpoint_path().string());
  }
  if (!args.export_only && !args.resume && !args.fresh && have_checkpoint) {
    throw moe::Error(
        "a checkpoint exists at " + config.checkpoint_path().string() +
        ": pass --resume to continue it or --fresh to start over (it will be overwritten)");
  }
  const bool resume = args.export_only || args.resume;
  // The training step allocates and frees the same large activation buffers again and again:
  // keep them in the heap instead of mapping (and zero-filling) fresh pages every time.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  moe::train::TrainingJob job(std::move(config), resume,
                              [&](const std::string& line) { out << line << std::endl; });
  if (resume) {
    out << "resumed from " << job.config().checkpoint_path().string() << " at step "
        << job.trainer().steps_done() << std::endl;
  }
  if (args.export_only) {
    print_export(job.export_model(args.export_path.empty() ? job.config().gguf_out
                                                           : fs::path(args.export_path)),
                 out);
    return;
  }
  print_plan(job, out);

  const int64_t total_steps = job.trainer().config().optimizer.total_steps;
  const moe::train::TrainingListener listener{
      [&](const moe::train::StepProgress& progress) { print_step(progress, total_steps, out); },
      [&](const moe::train::Evaluation& evaluation) { print_evaluation(evaluation, out); },
      [&](const moe::train::SavedCheckpoint& saved) { print_checkpoint(saved, out); },
      [&](const moe::train::ExportedModel& exported) { print_export(exported, out); }};
  g_stop_requested.store(false);
  const auto previous_int = std::signal(SIGINT, on_stop_signal);
  const auto previous_term = std::signal(SIGTERM, on_stop_signal);
  bool completed = false;
  try {
    completed = job.run_steps(listener, [] { return g_stop_requested.load(); });
  } catch (...) {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    throw;
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);

  job.finish(completed, listener);
  if (!completed) {
    out << "interrupted at step " << job.trainer().steps_done()
        << "; continue with: moescope-cli train " << args.config_path << " --resume" << std::endl;
  }
}

}  // namespace

void register_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* command = app.add_subcommand(
      "train", "Train a small MoE model from a JSON config and export it as GGUF");
  command
      ->add_option("CONFIG", args->config_path,
                   "Training config (JSON), e.g. assets/train/default.json")
      ->required();
  auto* resume = command->add_flag("--resume", args->resume,
                                   "Continue from the checkpoint in output.checkpoint_dir");
  auto* fresh = command->add_flag("--fresh", args->fresh,
                                  "Start over even if a checkpoint exists (overwrites it)");
  resume->excludes(fresh);
  command->add_flag("--export-only", args->export_only,
                    "Export the latest checkpoint as GGUF and exit (no training)");
  command->add_option("--out", args->export_path,
                      "With --export-only: where to write the GGUF (default output.gguf_out)");
  command
      ->add_option("--threads", args->threads, "CPU threads (0: all cores; default: the config's)")
      ->check(CLI::Range(0, 1024));
  command->callback([args] { run_train(*args); });
}

}  // namespace moescope::cli
