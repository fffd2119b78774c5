#pragma once
// Trains a byte-level BPE vocabulary (tokenizer.ggml.model = "gpt2") from text.
//
// Vocabulary layout: ids 0..255 are the byte tokens (id = byte value, spelled with the GPT-2
// byte-level symbol), then one token per learned merge in the order learned, then the special
// tokens (type CONTROL; the first is BOS, the second EOS by default).
//
// Algorithm: the text is pre-tokenized once and identical pieces ("words") are counted; pair
// counts are kept per distinct word and updated incrementally, only in the words that contain
// the pair being merged. Each step merges the most frequent adjacent pair; ties go to the pair
// whose left token id is smaller, then whose right token id is smaller. The result does not
// depend on document order or thread timing.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moe/tokenizer.hpp"

namespace moe {

struct BpeTrainProgress {
  enum class Stage { COUNTING_WORDS, MERGING };
  Stage stage = Stage::COUNTING_WORDS;
  size_t done = 0;   // bytes pre-tokenized, or merges learned
  size_t total = 0;  // bytes to pre-tokenize, or merges wanted
};

struct BpeTrainerOptions {
  size_t vocab_size = 8192;   // bytes + merges + special tokens
  std::string pre = "gpt-2";  // pre-tokenizer name (see PreTokenizer)
  std::vector<std::string> special_tokens = {"<s>", "</s>"};
  int bos_index = 0;            // index into special_tokens, or -1 for none
  int eos_index = 1;            // index into special_tokens, or -1 for none
  uint64_t min_pair_count = 2;  // stop early when the best pair is rarer than this
  // Called now and then (at least once per stage, and every `progress_every_merges` merges);
  // returning false cancels the training.
  std::function<bool(const BpeTrainProgress&)> progress;
  size_t progress_every_merges = 64;
};

struct BpeTrainResult {
  TokenizerVocab vocab;                // always usable, also after cancellation or an early stop
  std::vector<uint64_t> merge_counts;  // how often each learned pair occurred when merged
  bool cancelled = false;
  bool reached_vocab_size = false;  // false: stopped early (cancelled, or no pair frequent enough)
};

// Throws moe::Error for bad options (vocab_size too small for bytes + specials, unknown
// pre-tokenizer, empty or duplicate special tokens, bos/eos index out of range).
BpeTrainResult train_bpe(std::span<const std::string> documents, const BpeTrainerOptions& options);
// The whole file is one document. Throws moe::Error naming the file when it cannot be read.
BpeTrainResult train_bpe_file(const std::filesystem::path& corpus,
                              const BpeTrainerOptions& options);

}  // namespace moe
