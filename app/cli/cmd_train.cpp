// `moescope-cli train CONFIG [--resume | --fresh] [--export-only] [--threads N]`: trains a small
// MoE model from a JSON config (model shape, tokenizer, data, optimizer, seed, outputs; see
// assets/train/default.json), printing a progress line, evaluating validation loss per domain,
// logging JSONL rows (one per step and one per evaluation), checkpointing atomically, saving a
// checkpoint on Ctrl-C / SIGTERM, and exporting the GGUF model at the end.
// Relative paths in the config are taken from the current directory.
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include "cli_common.hpp"
#include "moe/error.hpp"
#include "moe/train_loop.hpp"

namespace moescope::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TrainJob {
  std::string name = "moescope-moe";
  std::string description;
  moe::train::TrainerConfig trainer;
  moe::train::CorpusSpec corpus;
  moe::train::TokenizerTrainSpec tokenizer;
  fs::path cache_dir = "data/train/cache";
  int eval_every = 250;
  int eval_windows = 16;
  int print_every = 10;
  fs::path checkpoint_dir = "data/train/checkpoints";
  int checkpoint_every = 250;
  fs::path log_file = "data/train/train_log.jsonl";
  fs::path gguf_out = "data/train/moescope-moe.gguf";
  moe::GgmlType weight_type = moe::GgmlType::F16;

  fs::path checkpoint_path() const { return checkpoint_dir / "latest.gguf"; }
};

// Reads the object's keys, rejecting any it does not know (a typo must not be ignored).
class Section {
public:
  Section(const json& parent, const std::string& name, bool required) : name_(name) {
    if (!parent.contains(name)) {
      if (required) throw moe::Error("config: missing section \"" + name + "\"");
      return;
    }
    value_ = &parent.at(name);
    if (!value_->is_object()) throw moe::Error("config: \"" + name + "\" must be an object");
  }
  ~Section() noexcept(false) {
    if (value_ == nullptr || std::uncaught_exceptions() > 0) return;
    for (const auto& item : value_->items()) {
      if (used_.count(item.key()) == 0)
        throw moe::Error("config: unknown key \"" + name_ + "." + item.key() + "\"");
    }
  }
  template <typename T>
  void read(const std::string& key, T& out) {
    used_.insert(key);
    if (value_ == nullptr || !value_->contains(key)) return;
    try {
      out = value_->at(key).get<T>();
    } catch (const json::exception& error) {
      throw moe::Error("config: \"" + name_ + "." + key + "\": " + error.what());
    }
  }
  void read_path(const std::string& key, fs::path& out) {
    std::string text = out.string();
    read(key, text);
    out = text;
  }

private:
  std::string name_;
  const json* value_ = nullptr;
  std::set<std::string> used_;
};

template <typename T>
void require_range(const std::string& what, T value, T low, T high) {
  if (value < low || value > high) {
    std::ostringstream message;
    message << "config: " << what << " = " << value << " is outside [" << low << ", " << high
            << "]";
    throw moe::Error(message.str());
  }
}

TrainJob parse_config(const std::string& path) {
  json root;
  try {
    root = json::parse(read_text_file(path));
  } catch (const json::parse_error& error) {
    throw moe::Error(path + ": invalid JSON: " + error.what());
  }
  if (!root.is_object()) throw moe::Error(path + ": the config must be a JSON object");
  TrainJob job;
  moe::train::TrainerConfig& t = job.trainer;
  moe::train::ModelShape& m = t.model;
  std::set<std::string> known = {"name",      "description", "seed",      "threads", "model",
                                 "tokenizer", "data",        "optimizer", "eval",    "output"};
  for (const auto& item : root.items()) {
    if (known.count(item.key()) == 0)
      throw moe::Error("config: unknown section \"" + item.key() + "\"");
  }
  const auto top_level = [&](const char* key, auto& out) {
    if (!root.contains(key)) return;
    try {
      out = root.at(key).get<std::remove_reference_t<decltype(out)>>();
    } catch (const json::exception& error) {
      throw moe::Error(std::string("config: \"") + key + "\": " + error.what());
    }
  };
  top_level("name", job.name);
  top_level("description", job.description);
  top_level("seed", t.seed);
  top_level("threads", t.n_threads);
  require_range("threads", t.n_threads, 0, 1024);
  {
    Section s(root, "model", true);
    s.read("n_layer", m.n_layer);
    s.read("n_embd", m.n_embd);
    s.read("n_head", m.n_head);
    s.read("n_head_kv", m.n_head_kv);
    s.read("n_ff_exp", m.n_ff_exp);
    s.read("n_expert", m.n_expert);
    s.read("top_k", m.top_k);
    s.read("tied_output", m.tied_output);
    s.read("n_ctx", m.n_ctx);
    s.read("rms_eps", m.rms_eps);
    s.read("rope_base", m.rope_base);
  }
  {
    Section s(root, "tokenizer", true);
    s.read("vocab_size", job.tokenizer.vocab_size);
    s.read("sample_bytes", job.tokenizer.sample_bytes);
    require_range("tokenizer.vocab_size", job.tokenizer.vocab_size, 260, 65536);
  }
  {
    Section s(root, "data", true);
    std::string dir;
    s.read("corpus_dir", dir);
    job.corpus.dir = dir;
    s.read("domains", job.corpus.domains);
    s.read_path("cache_dir", job.cache_dir);
    if (dir.empty() || job.corpus.domains.empty())
      throw moe::Error("config: data.corpus_dir and data.domains are required");
  }
  {
    Section s(root, "optimizer", true);
    moe::train::OptimizerConfig& o = t.optimizer;
    int batch_tokens = 8192, micro_batch_tokens = 2048;
    s.read("lr", o.lr);
    s.read("min_lr_ratio", o.min_lr_ratio);
    s.read("warmup_steps", o.warmup_steps);
    s.read("steps", o.total_steps);
    s.read("beta1", o.beta1);
    s.read("beta2", o.beta2);
    s.read("eps", o.eps);
    s.read("weight_decay", o.weight_decay);
    s.read("grad_clip", o.grad_clip);
    s.read("seq_len", t.seq_len);
    s.read("batch_tokens", batch_tokens);
    s.read("micro_batch_tokens", micro_batch_tokens);
    s.read("aux_loss_weight", t.loss.load_balance);
    s.read("z_loss_weight", t.loss.z_loss);
    require_range("optimizer.seq_len", t.seq_len, 1, m.n_ctx);
    require_range("optimizer.batch_tokens", batch_tokens, t.seq_len, 1 << 24);
    require_range("optimizer.micro_batch_tokens", micro_batch_tokens, t.seq_len, 1 << 24);
    t.batch_seqs = batch_tokens / t.seq_len;
    t.micro_batch_seqs = std::min(t.batch_seqs, micro_batch_tokens / t.seq_len);
  }
  {
    Section s(root, "eval", false);
    s.read("every_steps", job.eval_every);
    s.read("windows_per_domain", job.eval_windows);
    s.read("print_every", job.print_every);
    require_range("eval.every_steps", job.eval_every, 0, 1 << 30);
    require_range("eval.windows_per_domain", job.eval_windows, 1, 1 << 20);
    require_range("eval.print_every", job.print_every, 1, 1 << 30);
  }
  {
    Section s(root, "output", true);
    std::string type = "f16";
    s.read_path("checkpoint_dir", job.checkpoint_dir);
    s.read("checkpoint_every", job.checkpoint_every);
    s.read_path("log_file", job.log_file);
    s.read_path("gguf_out", job.gguf_out);
    s.read("weight_type", type);
    static const std::map<std::string, moe::GgmlType> types = {{"f32", moe::GgmlType::F32},
                                                               {"f16", moe::GgmlType::F16},
                                                               {"bf16", moe::GgmlType::BF16},
                                                               {"q8_0", moe::GgmlType::Q8_0}};
    if (types.count(type) == 0)
      throw moe::Error("config: output.weight_type must be f32, f16, bf16 or q8_0, got \"" + type +
                       "\"");
    job.weight_type = types.at(type);
    require_range("output.checkpoint_every", job.checkpoint_every, 0, 1 << 30);
  }
  m.n_vocab = job.tokenizer.vocab_size;  // replaced by the trained tokenizer's size
  t.validate();
  return job;
}

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

class JsonlLog {
public:
  JsonlLog(const fs::path& path, bool append) {
    if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
    out_.open(path, append ? std::ios::app : std::ios::trunc);
    if (!out_) throw moe::Error("cannot write the log file " + path.string());
  }
  void write(const json& row) {
    out_ << dump_json(row) << "\n";
    out_.flush();
  }

private:
  std::ofstream out_;
};

json evaluate_all(moe::train::Trainer& trainer, const TrainJob& job, std::ostream& out) {
  const auto start = std::chrono::steady_clock::now();
  json losses = json::object();
  double sum = 0;
  int counted = 0;
  std::ostringstream line;
  line << std::fixed << std::setprecision(3);
  for (size_t d = 0; d < job.corpus.domains.size(); ++d) {
    const double loss = trainer.evaluate(d, job.eval_windows);
    if (std::isfinite(loss)) {
      losses[job.corpus.domains[d]] = loss;
      sum += loss;
      ++counted;
      line << " " << job.corpus.domains[d] << " " << loss;
    }
  }
  const double mean = counted > 0 ? sum / counted : std::nan("");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << "eval  step " << trainer.steps_done() << " | val loss mean " << std::fixed
      << std::setprecision(3) << mean << " (ppl " << std::setprecision(1) << std::exp(mean) << ") |"
      << line.str() << " | " << std::setprecision(1) << seconds << " s" << std::endl;
  return json{
      {"type", "eval"},     {"step", trainer.steps_done()}, {"tokens", trainer.tokens_seen()},
      {"val_loss", losses}, {"val_loss_mean", mean},        {"seconds", seconds}};
}

void save(const moe::train::Trainer& trainer, const TrainJob& job, const moe::Tokenizer& tokenizer,
          std::ostream& out) {
  const auto start = std::chrono::steady_clock::now();
  trainer.save_checkpoint(job.checkpoint_path(), &tokenizer);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << "checkpoint step " << trainer.steps_done() << " -> " << job.checkpoint_path().string()
      << " (" << std::fixed << std::setprecision(1) << seconds << " s)" << std::endl;
}

void export_model(const moe::train::Trainer& trainer, const TrainJob& job,
                  const moe::Tokenizer& tokenizer, const fs::path& path, std::ostream& out) {
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  std::string description = job.description;
  if (!description.empty()) description += " ";
  description += "Trained by moescope-cli train: " + std::to_string(trainer.steps_done()) +
                 " steps, " + std::to_string(trainer.tokens_seen()) + " tokens, domains";
  for (const std::string& domain : job.corpus.domains) description += " " + domain;
  description += ".";
  trainer.export_gguf(path, tokenizer.vocab(),
                      moe::train::ExportOptions{job.name, description, job.weight_type});
  out << "exported " << path.string() << " (" << std::fixed << std::setprecision(1)
      << static_cast<double>(fs::file_size(path)) / 1e6 << " MB, "
      << moe::type_name(job.weight_type) << ")" << std::endl;
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
  TrainJob job = parse_config(args.config_path);
  if (args.threads >= 0) job.trainer.n_threads = args.threads;
  std::ostream& out = std::cout;
  const bool have_checkpoint = fs::exists(job.checkpoint_path());
  if (args.export_only && !have_checkpoint) {
    throw moe::Error("--export-only: no checkpoint at " + job.checkpoint_path().string());
  }
  if (!args.export_only && args.resume && !have_checkpoint) {
    throw moe::Error("--resume: no checkpoint at " + job.checkpoint_path().string());
  }
  if (!args.export_only && !args.resume && !args.fresh && have_checkpoint) {
    throw moe::Error(
        "a checkpoint exists at " + job.checkpoint_path().string() +
        ": pass --resume to continue it or --fresh to start over (it will be overwritten)");
  }
  const bool resume = args.export_only || args.resume;
  // The training step allocates and frees the same large activation buffers again and again:
  // keep them in the heap instead of mapping (and zero-filling) fresh pages every time.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  const auto log_line = [&](const std::string& line) { out << line << std::endl; };
  // A resumed run keeps the tokenizer it was trained with, whatever the corpus is now.
  std::optional<moe::Tokenizer> checkpoint_tokenizer;
  if (resume) {
    if (auto vocab = moe::train::load_checkpoint_tokenizer(job.checkpoint_path()))
      checkpoint_tokenizer.emplace(*vocab);
  }
  moe::train::PreparedData data =
      moe::train::prepare_data(job.corpus, job.tokenizer, job.cache_dir, job.trainer.n_threads,
                               log_line, checkpoint_tokenizer ? &*checkpoint_tokenizer : nullptr);
  job.trainer.model.n_vocab = data.tokenizer.n_vocab();
  moe::train::Trainer trainer(job.trainer, data.corpus);
  if (resume) {
    trainer.load_checkpoint(job.checkpoint_path());
    out << "resumed from " << job.checkpoint_path().string() << " at step " << trainer.steps_done()
        << std::endl;
  }
  if (args.export_only) {
    export_model(trainer, job, data.tokenizer,
                 args.export_path.empty() ? job.gguf_out : fs::path(args.export_path), out);
    return;
  }

  const moe::train::TrainerConfig& config = trainer.config();
  const moe::train::ModelShape& m = config.model;
  uint64_t expert_params = 0;
  for (const auto& tensor : trainer.layout().tensors()) {
    if (tensor.name.find("_exps") != std::string::npos) expert_params += tensor.size;
  }
  const uint64_t total_params = trainer.layout().size();
  const uint64_t active =
      total_params - expert_params +
      expert_params / static_cast<uint64_t>(m.n_expert) * static_cast<uint64_t>(m.top_k);
  out << "model: " << m.n_layer << " layers, width " << m.n_embd << ", " << m.n_head << "/"
      << m.n_head_kv << " heads, " << m.n_expert << " experts of " << m.n_ff_exp << " (top-"
      << m.top_k << "), vocab " << m.n_vocab << (m.tied_output ? ", tied head" : "") << " | "
      << std::fixed << std::setprecision(2) << total_params / 1e6 << " M parameters, "
      << active / 1e6 << " M active per token" << std::endl;
  out << "batch: " << config.batch_seqs << " x " << config.seq_len << " tokens (micro-batches of "
      << config.micro_batch_seqs << "), " << config.optimizer.total_steps
      << " steps = " << std::setprecision(1)
      << static_cast<double>(config.optimizer.total_steps) * config.batch_seqs * config.seq_len /
             1e6
      << " M tokens" << std::endl;

  JsonlLog log(job.log_file, resume);
  if (!resume) {
    json shape = {{"n_vocab", m.n_vocab},   {"n_ctx", m.n_ctx},
                  {"n_embd", m.n_embd},     {"n_layer", m.n_layer},
                  {"n_head", m.n_head},     {"n_head_kv", m.n_head_kv},
                  {"n_ff_exp", m.n_ff_exp}, {"n_expert", m.n_expert},
                  {"top_k", m.top_k},       {"tied_output", m.tied_output}};
    log.write(json{{"type", "config"},
                   {"name", job.name},
                   {"model", shape},
                   {"domains", job.corpus.domains},
                   {"batch_tokens", config.batch_seqs * config.seq_len},
                   {"steps", config.optimizer.total_steps},
                   {"parameters", total_params},
                   {"active_parameters", active}});
  }

  g_stop_requested.store(false);
  const auto previous_int = std::signal(SIGINT, on_stop_signal);
  const auto previous_term = std::signal(SIGTERM, on_stop_signal);
  const auto run_start = std::chrono::steady_clock::now();
  std::deque<std::pair<int64_t, double>> recent;  // (tokens, seconds) of the last steps
  int64_t last_saved = trainer.steps_done();
  bool interrupted = false;
  const int64_t first_step = trainer.steps_done() + 1;  // printed even off the print_every grid
  try {
    while (trainer.steps_done() < config.optimizer.total_steps) {
      if (g_stop_requested.load()) {
        interrupted = true;
        break;
      }
      const moe::train::StepStats stats = trainer.step();
      recent.emplace_back(stats.tokens, stats.seconds);
      if (recent.size() > 50) recent.pop_front();
      int64_t recent_tokens = 0;
      double recent_seconds = 0;
      for (const auto& [tokens, seconds] : recent) {
        recent_tokens += tokens;
        recent_seconds += seconds;
      }
      const double tokens_per_s =
          recent_seconds > 0 ? static_cast<double>(recent_tokens) / recent_seconds : 0;
      const double eta = recent_seconds / static_cast<double>(recent.size()) *
                         static_cast<double>(config.optimizer.total_steps - stats.step);
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
      json row = {{"type", "train"},
                  {"step", stats.step},
                  {"lr", stats.lr},
                  {"loss", stats.loss},
                  {"load_balance", stats.load_balance},
                  {"z_loss", stats.z_loss},
                  {"total", stats.total},
                  {"grad_norm", stats.grad_norm},
                  {"load_cv", stats.expert_load_cv},
                  {"tokens", trainer.tokens_seen()},
                  {"tok_per_s", tokens_per_s},
                  {"step_s", stats.seconds},
                  {"elapsed_s", elapsed}};
      const bool eval_now = job.eval_every > 0 && stats.step % job.eval_every == 0;
      if (eval_now || stats.step == config.optimizer.total_steps)
        row["expert_counts"] = stats.expert_counts;
      log.write(row);
      if (!std::isfinite(stats.total))
        throw moe::Error("the loss is not finite at step " + std::to_string(stats.step));
      if (stats.step % job.print_every == 0 || stats.step == first_step ||
          stats.step == config.optimizer.total_steps) {
        out << now_text() << " step " << stats.step << "/" << config.optimizer.total_steps
            << " | lr " << std::scientific << std::setprecision(2) << stats.lr << std::fixed
            << " | loss " << std::setprecision(3) << stats.loss << " (lb " << std::setprecision(3)
            << stats.load_balance << ", z " << std::setprecision(2) << stats.z_loss << ") | gnorm "
            << std::setprecision(2) << stats.grad_norm << " | " << std::setprecision(0)
            << tokens_per_s << " tok/s | load cv " << std::setprecision(3) << stats.expert_load_cv
            << " | elapsed " << duration_text(elapsed) << " | eta " << duration_text(eta)
            << std::endl;
      }
      if (eval_now) log.write(evaluate_all(trainer, job, out));
      if (job.checkpoint_every > 0 && stats.step % job.checkpoint_every == 0) {
        save(trainer, job, data.tokenizer, out);
        last_saved = stats.step;
      }
    }
  } catch (...) {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    throw;
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);

  if (trainer.steps_done() != last_saved) save(trainer, job, data.tokenizer, out);
  if (interrupted) {
    out << "interrupted at step " << trainer.steps_done() << "; continue with: moescope-cli train "
        << args.config_path << " --resume" << std::endl;
    return;
  }
  if (job.eval_every == 0 || trainer.steps_done() % job.eval_every != 0)
    log.write(evaluate_all(trainer, job, out));
  export_model(trainer, job, data.tokenizer, job.gguf_out, out);
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
