#pragma once
// A training run as its JSON config describes it (assets/train/default.json): model shape,
// tokenizer, data, optimizer, seed, evaluation and outputs. Read by `moescope-cli train` and
// run by moe::train::TrainingJob (moe/train_job.hpp). Relative paths are taken from the current
// directory.
#include <filesystem>
#include <string>
#include <string_view>

#include "moe/ggml_types.hpp"
#include "moe/train_data.hpp"
#include "moe/train_loop.hpp"

namespace moe::train {

struct TrainingJobConfig {
  std::string name = "moescope-moe";  // general.name of the exported model
  std::string description;
  TrainerConfig trainer;
  CorpusSpec corpus;
  TokenizerTrainSpec tokenizer;
  std::filesystem::path cache_dir = "data/train/cache";
  int eval_every = 250;   // steps between evaluations (0: only at the end)
  int eval_windows = 16;  // validation windows per domain
  int print_every = 10;   // steps between progress reports
  std::filesystem::path checkpoint_dir = "data/train/checkpoints";
  int checkpoint_every = 250;  // steps between checkpoints (0: only at the end)
  std::filesystem::path log_file = "data/train/train_log.jsonl";
  std::filesystem::path gguf_out = "data/train/moescope-moe.gguf";
  GgmlType weight_type = GgmlType::F16;  // of the exported matrices

  std::filesystem::path checkpoint_path() const { return checkpoint_dir / "latest.gguf"; }
};

// Parses a config's JSON text. Unknown sections and keys, wrong types and values out of range
// throw moe::Error naming the key ("config: ..."); invalid JSON names `source`.
TrainingJobConfig parse_training_config(std::string_view json_text, const std::string& source);
// Reads and parses the config file at `path`.
TrainingJobConfig read_training_config(const std::filesystem::path& path);

}  // namespace moe::train
