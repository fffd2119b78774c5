// A training config's JSON to a TrainingJobConfig (moe/train_job_config.hpp): every key known,
// typed and in range, or one clear error naming it.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "moe/error.hpp"
#include "moe/text_file.hpp"
#include "moe/train_job_config.hpp"

namespace moe::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Reads the object's keys, rejecting any it does not know (a typo must not be ignored).
class Section {
public:
  Section(const json& parent, const std::string& name, bool required) : name_(name) {
    if (!parent.contains(name)) {
      if (required) throw Error("config: missing section \"" + name + "\"");
      return;
    }
    value_ = &parent.at(name);
    if (!value_->is_object()) throw Error("config: \"" + name + "\" must be an object");
  }
  ~Section() noexcept(false) {
    if (value_ == nullptr || std::uncaught_exceptions() > 0) return;
    for (const auto& item : value_->items()) {
      if (used_.count(item.key()) == 0)
        throw Error("config: unknown key \"" + name_ + "." + item.key() + "\"");
    }
  }
  template <typename T>
  void read(const std::string& key, T& out) {
    used_.insert(key);
    if (value_ == nullptr || !value_->contains(key)) return;
    try {
      out = value_->at(key).get<T>();
    } catch (const json::exception& error) {
      throw Error("config: \"" + name_ + "." + key + "\": " + error.what());
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
    throw Error(message.str());
  }
}

}  // namespace

TrainingJobConfig parse_training_config(std::string_view json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& error) {
    throw Error(source + ": invalid JSON: " + error.what());
  }
  if (!root.is_object()) throw Error(source + ": the config must be a JSON object");
  TrainingJobConfig job;
  TrainerConfig& t = job.trainer;
  ModelShape& m = t.model;
  std::set<std::string> known = {"name",      "description", "seed",      "threads", "model",
                                 "tokenizer", "data",        "optimizer", "eval",    "output"};
  for (const auto& item : root.items()) {
    if (known.count(item.key()) == 0)
      throw Error("config: unknown section \"" + item.key() + "\"");
  }
  const auto top_level = [&](const char* key, auto& out) {
    if (!root.contains(key)) return;
    try {
      out = root.at(key).get<std::remove_reference_t<decltype(out)>>();
    } catch (const json::exception& error) {
      throw Error(std::string("config: \"") + key + "\": " + error.what());
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
    s.read("domain_weights", job.tokenizer.domain_weights);
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
      throw Error("config: data.corpus_dir and data.domains are required");
    try {
      check_domain_weights(job.tokenizer.domain_weights, job.corpus.domains);
    } catch (const Error& error) {
      throw Error(std::string("config: tokenizer.domain_weights: ") + error.what());
    }
  }
  {
    Section s(root, "optimizer", true);
    OptimizerConfig& o = t.optimizer;
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
    static const std::map<std::string, GgmlType> types = {{"f32", GgmlType::F32},
                                                               {"f16", GgmlType::F16},
                                                               {"bf16", GgmlType::BF16},
                                                               {"q8_0", GgmlType::Q8_0}};
    if (types.count(type) == 0)
      throw Error("config: output.weight_type must be f32, f16, bf16 or q8_0, got \"" + type +
                       "\"");
    job.weight_type = types.at(type);
    require_range("output.checkpoint_every", job.checkpoint_every, 0, 1 << 30);
  }
  m.n_vocab = job.tokenizer.vocab_size;  // replaced by the trained tokenizer's size
  t.validate();
  return job;
}

TrainingJobConfig read_training_config(const fs::path& path) {
  return parse_training_config(read_text_file(path), path.string());
}

}  // namespace moe::train
