// BPE trainer: merge order on hand-checked toy corpora, vocabulary size, round trips through the
// Tokenizer and through a GGUF file, determinism, cancellation and option errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "moe/bpe_trainer.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/tokenizer.hpp"

namespace {

using moe::BpeTrainerOptions;
using moe::BpeTrainProgress;
using moe::Tokenizer;

BpeTrainerOptions options_with(size_t vocab_size) {
  BpeTrainerOptions options;
  options.vocab_size = vocab_size;
  return options;
}

// A few hundred sentences from a small vocabulary of words: plenty of repeated pairs.
std::vector<std::string> sentences(size_t count, unsigned seed) {
  static const std::vector<std::string> words = {
      "the",     "expert", "router", "sends", "each",    "token",   "to",   "two",
      "experts", "of",     "eight",  "load",  "balance", "matters", "when", "training",
      "mixture", "models", "über",   "ñandú", "路由",    "专家",    "🙂", "42",
      "1999",    "don't",  "it's",   "x86",   "GPU",     "CPU"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
  std::uniform_int_distribution<int> length(3, 12);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string sentence;
    for (int w = length(rng); w > 0; --w)
      sentence += (sentence.empty() ? "" : " ") + words[pick(rng)];
    out.push_back(sentence + ".\n");
  }
  return out;
}

TEST(BpeTrainer, ToyCorpusMergesInTheExpectedOrder) {
  // One word. Pair counts: aa 4, ab 2, ... -> "a a". Then (aa a) and (a b) both occur twice:
  // the tie goes to the smaller left id, 'a' (97) < "aa" (256) -> "a b". Then "aa ab" twice.
  // Everything else occurs once, below min_pair_count = 2.
  const std::vector<std::string> documents = {"aaabdaaabac"};
  const moe::BpeTrainResult result = moe::train_bpe(documents, options_with(1000));
  EXPECT_EQ(result.vocab.merges, (std::vector<std::string>{"a a", "a b", "aa ab"}));
  EXPECT_EQ(result.merge_counts, (std::vector<uint64_t>{4, 2, 2}));
  EXPECT_FALSE(result.reached_vocab_size);
  EXPECT_FALSE(result.cancelled);
  ASSERT_EQ(result.vocab.tokens.size(), 256u + 3 + 2);
  EXPECT_EQ(result.vocab.tokens[256], "aa");
  EXPECT_EQ(result.vocab.tokens[258], "aaab");
  EXPECT_EQ(result.vocab.tokens[259], "<s>");
  EXPECT_EQ(result.vocab.tokens[260], "</s>");
  EXPECT_EQ(result.vocab.bos, 259);
  EXPECT_EQ(result.vocab.eos, 260);
  EXPECT_EQ(result.vocab.types[258], moe::TokenType::NORMAL);
  EXPECT_EQ(result.vocab.types[259], moe::TokenType::CONTROL);
  EXPECT_EQ(result.vocab.model, "gpt2");
  EXPECT_EQ(result.vocab.pre, "gpt-2");

  const Tokenizer tokenizer(result.vocab);
  EXPECT_EQ(tokenizer.encode("aaabdaaabac"), (std::vector<int32_t>{258, 'd', 258, 'a', 'c'}));
}

TEST(BpeTrainer, WordCountsWeighPairs) {
  // GPT-2 pieces: "low" once, " low" 3 times, " lower" twice, " newest" 4 times. Pair counts:
  // "l o" 6, "o w" 6, "w e" 2 + 4 = 6, " l" 5, the pairs of " newest" 4, "e r" 2.
  // Three pairs tie at 6; 'l' (108) is the smallest left id -> "l o". Then "lo w" (left id 256)
  // and "w e" (left id 119) tie at 6 -> "w e".
  const std::vector<std::string> documents = {
      "low low low low lower lower newest newest newest newest"};
  const moe::BpeTrainResult result = moe::train_bpe(documents, options_with(256 + 2 + 2));
  EXPECT_TRUE(result.reached_vocab_size);
  EXPECT_EQ(result.vocab.merges, (std::vector<std::string>{"l o", "w e"}));
  EXPECT_EQ(result.merge_counts, (std::vector<uint64_t>{6, 6}));
  // One more: "w e" took the w of " lower", so "lo w" is down to 4 and " lo" (5) wins.
  const moe::BpeTrainResult more = moe::train_bpe(documents, options_with(256 + 3 + 2));
  EXPECT_EQ(more.vocab.merges.back(), "\xC4\xA0 lo");
  EXPECT_EQ(more.merge_counts.back(), 5u);
}

TEST(BpeTrainer, ReachesTheVocabSizeAndRoundTrips) {
  const std::vector<std::string> documents = sentences(400, 7);
  const moe::BpeTrainResult result = moe::train_bpe(documents, options_with(350));
  EXPECT_TRUE(result.reached_vocab_size);
  ASSERT_EQ(result.vocab.tokens.size(), 350u);
  EXPECT_EQ(result.vocab.merges.size(), 350u - 256 - 2);
  // The first merge is the most frequent pair of all.
  EXPECT_EQ(*std::max_element(result.merge_counts.begin(), result.merge_counts.end()),
            result.merge_counts.front());

  const Tokenizer tokenizer(result.vocab);
  size_t bytes = 0, tokens = 0;
  for (const std::string& document : documents) {
    const std::vector<int32_t> ids = tokenizer.encode(document);
    ASSERT_EQ(tokenizer.decode(ids), document);
    bytes += document.size();
    tokens += ids.size();
  }
  EXPECT_LT(tokens * 2, bytes) << "the learned merges should compress the training text";

  std::mt19937 rng(3);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 100; ++i) {
    std::string noise(static_cast<size_t>(i), '\0');
    for (char& c : noise) c = static_cast<char>(byte(rng));
    ASSERT_EQ(tokenizer.decode(tokenizer.encode(noise)), noise);
  }
}

TEST(BpeTrainer, IsDeterministicWhateverTheDocumentOrder) {
  std::vector<std::string> documents = sentences(200, 11);
  const moe::BpeTrainResult first = moe::train_bpe(documents, options_with(350));
  std::reverse(documents.begin(), documents.end());
  const moe::BpeTrainResult second = moe::train_bpe(documents, options_with(350));
  EXPECT_EQ(first.vocab.merges, second.vocab.merges);
  EXPECT_EQ(first.vocab.tokens, second.vocab.tokens);
}

TEST(BpeTrainer, GgufRoundTripGivesTheSameIds) {
  const std::vector<std::string> documents = sentences(300, 5);
  BpeTrainerOptions options = options_with(380);
  options.pre = "starcoder";
  const moe::BpeTrainResult result = moe::train_bpe(documents, options);
  const Tokenizer trained(result.vocab);

  moe::gguf::GgufWriter writer;
  writer.set_string("general.architecture", "test");
  moe::write_tokenizer_vocab(writer, result.vocab);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const auto file = moe::gguf::GgufFile::parse(bytes, "trained.gguf");
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "starcoder");
  const Tokenizer loaded = Tokenizer::from_gguf(file);

  EXPECT_EQ(loaded.n_vocab(), trained.n_vocab());
  EXPECT_EQ(loaded.bos_id(), trained.bos_id());
  EXPECT_EQ(loaded.eos_id(), trained.eos_id());
  EXPECT_EQ(loaded.token_type(*loaded.eos_id()), moe::TokenType::CONTROL);
  EXPECT_EQ(loaded.pre_name(), "starcoder");
  for (const std::string& document : documents)
    ASSERT_EQ(loaded.encode(document), trained.encode(document));
}

TEST(BpeTrainer, CancellationStopsWithAUsableVocabulary) {
  const std::vector<std::string> documents = sentences(300, 9);
  BpeTrainerOptions options = options_with(500);
  options.progress_every_merges = 10;
  std::vector<BpeTrainProgress> reports;
  options.progress = [&](const BpeTrainProgress& progress) {
    reports.push_back(progress);
    return !(progress.stage == BpeTrainProgress::Stage::MERGING && progress.done >= 30);
  };
  const moe::BpeTrainResult result = moe::train_bpe(documents, options);
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.reached_vocab_size);
  EXPECT_EQ(result.vocab.merges.size(), 30u);
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.front().stage, BpeTrainProgress::Stage::COUNTING_WORDS);
  EXPECT_EQ(reports.back().done, 30u);
  EXPECT_EQ(reports.back().total, 500u - 256 - 2);
  const Tokenizer tokenizer(result.vocab);  // still valid
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(documents[0])), documents[0]);

  options.progress = [](const BpeTrainProgress&) { return false; };  // cancel while counting
  const moe::BpeTrainResult early = moe::train_bpe(documents, options);
  EXPECT_TRUE(early.cancelled);
  EXPECT_TRUE(early.vocab.merges.empty());
  EXPECT_EQ(early.vocab.tokens.size(), 258u);
}

TEST(BpeTrainer, NeverLearnsATokenSpelledLikeASpecialOne) {
  const std::vector<std::string> documents = {"aaabdaaabac"};
  BpeTrainerOptions options = options_with(1000);
  options.special_tokens = {"aa", "<eos>"};
  const moe::BpeTrainResult result = moe::train_bpe(documents, options);
  for (const std::string& merge : result.vocab.merges) EXPECT_NE(merge, "a a");
  EXPECT_EQ(result.vocab.merges.front(), "a b");
  EXPECT_EQ(std::count(result.vocab.tokens.begin(), result.vocab.tokens.end(), "aa"), 1);
  EXPECT_EQ(result.vocab.tokens[*result.vocab.bos], "aa");
}

TEST(BpeTrainer, LongDocumentsAreCountedExactly) {
  // 3 MB in one document: pre-tokenized in chunks, which must not change the word counts.
  std::string text;
  for (int i = 0; i < 1000000; ++i) text += "ab\n";
  const moe::BpeTrainResult result =
      moe::train_bpe(std::vector<std::string>{text}, options_with(259));
  ASSERT_EQ(result.vocab.merges.size(), 1u);
  EXPECT_EQ(result.vocab.merges[0], "a b");
  EXPECT_EQ(result.merge_counts[0], 1000000u);
}

TEST(BpeTrainer, TrainsFromAFile) {
  const std::vector<std::string> documents = {"aaabdaaabac"};
  const auto path = std::filesystem::temp_directory_path() / "moescope_bpe_corpus.txt";
  std::ofstream(path, std::ios::binary) << documents[0];
  const moe::BpeTrainResult from_file = moe::train_bpe_file(path, options_with(1000));
  std::filesystem::remove(path);
  EXPECT_EQ(from_file.vocab.merges, moe::train_bpe(documents, options_with(1000)).vocab.merges);
  EXPECT_THROW(moe::train_bpe_file(path, options_with(1000)), moe::Error);
}

TEST(BpeTrainer, RejectsBadOptions) {
  const std::vector<std::string> documents = {"abc"};
  EXPECT_THROW(moe::train_bpe(documents, options_with(100)), moe::Error);
  BpeTrainerOptions options = options_with(300);
  options.pre = "klingon";
  EXPECT_THROW(moe::train_bpe(documents, options), moe::Error);
  options = options_with(300);
  options.special_tokens = {"<s>", "<s>"};
  EXPECT_THROW(moe::train_bpe(documents, options), moe::Error);
  options.special_tokens = {"<s>", ""};
  EXPECT_THROW(moe::train_bpe(documents, options), moe::Error);
  options.special_tokens = {"<s>", "x"};  // spelled like the byte token for 'x'
  EXPECT_THROW(moe::train_bpe(documents, options), moe::Error);
  options.special_tokens = {"<s>"};  // eos_index 1 names nothing
  EXPECT_THROW(moe::train_bpe(documents, options), moe::Error);
  options.eos_index = -1;
  EXPECT_NO_THROW(moe::train_bpe(documents, options));
}

}  // namespace
