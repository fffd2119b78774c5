#pragma once
// Training checkpoints: every parameter, both AdamW moments, the step count and what the data
// order depends on (the seed; batches are a function of (seed, step)). Stored as a GGUF file
// (F32 tensors "param.<name>", "adam_m.<name>", "adam_v.<name>" plus moescope.train.* keys),
// written atomically (temporary file, then rename), so an interrupted write never leaves a
// broken checkpoint behind.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "moe/tokenizer.hpp"
#include "moe/train_model.hpp"

namespace moe::train {

struct CheckpointData {
  ModelShape shape;
  uint64_t seed = 0;
  int64_t step = 0;                           // optimizer steps done
  int64_t tokens_seen = 0;                    // training tokens consumed
  std::vector<float> params, adam_m, adam_v;  // ParameterLayout(shape) order
  // The tokenizer the token ids were made with (tokenizer.ggml.* keys), so that a resumed run
  // keeps its vocabulary even when the corpus (and with it a retrained tokenizer) has changed.
  std::optional<TokenizerVocab> tokenizer;
};

void save_checkpoint(const std::filesystem::path& path, const CheckpointData& data);
// Throws moe::Error naming the file for anything missing or inconsistent.
CheckpointData load_checkpoint(const std::filesystem::path& path);
// Only the tokenizer stored in a checkpoint (nullopt when it has none).
std::optional<TokenizerVocab> load_checkpoint_tokenizer(const std::filesystem::path& path);

}  // namespace moe::train
