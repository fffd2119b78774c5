// Byte-level BPE training: count pre-tokenized words once, then merge the most frequent pair
// again and again, updating pair counts only in the words that contain the merged pair.
#include "moe/bpe_trainer.hpp"

#include <algorithm>
#include <fstream>
#include <queue>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "byte_unicode.hpp"
#include "moe/error.hpp"
#include "tokenizer_impl.hpp"

namespace moe {

namespace {

using tokenizer_detail::byte_to_symbol;

constexpr size_t kChunkBytes = size_t{1} << 20;

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}
int32_t key_left(uint64_t key) { return static_cast<int32_t>(key >> 32); }
int32_t key_right(uint64_t key) { return static_cast<int32_t>(key & 0xFFFFFFFFu); }

// Where a long document may be cut without changing its pre-tokenization: after a newline that
// is followed by an ASCII letter. No supported regex lets a piece run from "\n" into a letter.
size_t chunk_end(std::string_view text, size_t from) {
  if (text.size() - from <= kChunkBytes) return text.size();
  for (size_t pos = from + kChunkBytes; pos + 1 < text.size(); ++pos) {
    const char next = text[pos + 1];
    if (text[pos] == '\n' && ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z')))
      return pos + 1;
  }
  return text.size();
}

struct Word {
  std::vector<int32_t> symbols;
  uint64_t count = 0;
};

class Trainer {
public:
  explicit Trainer(const BpeTrainerOptions& options)
      : options_(options), pre_(PreTokenizer::create(options.pre)) {
    validate();
    for (int byte = 0; byte < 256; ++byte)
      texts_.push_back(byte_to_symbol(static_cast<uint8_t>(byte)));
  }

  bool count_words(std::span<const std::string> documents);
  void learn_merges();
  BpeTrainResult result() const;

private:
  void validate() const;
  bool report(BpeTrainProgress::Stage stage, size_t done, size_t total) {
    if (options_.progress && !options_.progress({stage, done, total})) cancelled_ = true;
    return !cancelled_;
  }
  void merge(uint64_t key, int32_t new_id);

  struct Candidate {
    uint64_t count;
    uint64_t key;
    bool operator<(const Candidate& other) const {  // the top of the heap is the best pair
      if (count != other.count) return count < other.count;
      return key > other.key;  // smaller left id, then smaller right id, wins
    }
  };

  const BpeTrainerOptions& options_;
  PreTokenizer pre_;
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> word_counts_;
  std::vector<Word> words_;
  std::unordered_map<uint64_t, uint64_t> pair_counts_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> pair_words_;  // may hold stale entries
  std::priority_queue<Candidate> queue_;
  std::vector<std::string> texts_;  // token texts, byte-level symbols
  std::vector<std::string> merges_;
  std::vector<uint64_t> merge_counts_;
  bool cancelled_ = false;
};

void Trainer::validate() const {
  const size_t specials = options_.special_tokens.size();
  if (options_.vocab_size < 256 + specials)
    throw Error("BPE trainer: vocab_size " + std::to_string(options_.vocab_size) +
                " is smaller than the 256 byte tokens plus " + std::to_string(specials) +
                " special tokens");
  std::set<std::string> seen;
  for (const std::string& special : options_.special_tokens) {
    if (special.empty()) throw Error("BPE trainer: empty special token");
    if (!seen.insert(special).second)
      throw Error("BPE trainer: duplicate special token '" + special + "'");
    for (int byte = 0; byte < 256; ++byte)
      if (special == byte_to_symbol(static_cast<uint8_t>(byte)))
        throw Error("BPE trainer: special token '" + special + "' is spelled like a byte token");
  }
  for (const auto& [index, name] :
       {std::pair{options_.bos_index, "bos_index"}, std::pair{options_.eos_index, "eos_index"}})
    if (index < -1 || (index >= 0 && static_cast<size_t>(index) >= specials))
      throw Error(std::string("BPE trainer: ") + name + " " + std::to_string(index) +
                  " does not name one of the " + std::to_string(specials) + " special tokens");
}

bool Trainer::count_words(std::span<const std::string> documents) {
  size_t total = 0;
  for (const std::string& document : documents) total += document.size();
  size_t done = 0;
  if (!report(BpeTrainProgress::Stage::COUNTING_WORDS, 0, total)) return false;
  for (const std::string& document : documents) {
    const std::string_view text = document;
    for (size_t begin = 0; begin < text.size();) {
      const size_t end = chunk_end(text, begin);
      for (std::string_view piece : pre_.split(text.substr(begin, end - begin))) {
        if (const auto it = word_counts_.find(piece); it != word_counts_.end())
          ++it->second;
        else
          word_counts_.emplace(std::string(piece), 1);
      }
      done += end - begin;
      begin = end;
      if (!report(BpeTrainProgress::Stage::COUNTING_WORDS, done, total)) return false;
    }
  }

  // Words in a fixed order (by text), each as byte ids; then the initial pair counts.
  std::vector<std::pair<std::string, uint64_t>> sorted(word_counts_.begin(), word_counts_.end());
  word_counts_.clear();
  std::sort(sorted.begin(), sorted.end());
  words_.reserve(sorted.size());
  for (const auto& [text, count] : sorted) {
    Word word;
    word.count = count;
    word.symbols.reserve(text.size());
    for (char c : text) word.symbols.push_back(static_cast<uint8_t>(c));
    words_.push_back(std::move(word));
  }
  for (uint32_t w = 0; w < words_.size(); ++w) {
    const std::vector<int32_t>& s = words_[w].symbols;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t key = pair_key(s[i], s[i + 1]);
      pair_counts_[key] += words_[w].count;
      std::vector<uint32_t>& list = pair_words_[key];
      if (list.empty() || list.back() != w) list.push_back(w);
    }
  }
  for (const auto& [key, count] : pair_counts_) queue_.push({count, key});
  return true;
}

// Replaces every occurrence of the pair in the words that hold it, left to right.
void Trainer::merge(uint64_t key, int32_t new_id) {
  const int32_t left = key_left(key);
  const int32_t right = key_right(key);
  std::vector<uint32_t> affected = std::move(pair_words_[key]);
  pair_words_.erase(key);
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());

  std::unordered_set<uint64_t> grown;  // pairs with the new token: their counts went up
  std::vector<int32_t> merged;
  for (uint32_t w : affected) {
    Word& word = words_[w];
    std::vector<int32_t>& s = word.symbols;
    merged.clear();
    bool found = false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i + 1 < s.size() && s[i] == left && s[i + 1] == right) {
        merged.push_back(new_id);
        ++i;
        found = true;
      } else {
        merged.push_back(s[i]);
      }
    }
    if (!found) continue;  // stale entry
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const auto it = pair_counts_.find(pair_key(s[i], s[i + 1]));
      if ((it->second -= word.count) == 0) pair_counts_.erase(it);
    }
    for (size_t i = 0; i + 1 < merged.size(); ++i) {
      const uint64_t pair = pair_key(merged[i], merged[i + 1]);
      pair_counts_[pair] += word.count;
      if (merged[i] == new_id || merged[i + 1] == new_id) {
        grown.insert(pair);
        std::vector<uint32_t>& list = pair_words_[pair];
        if (list.empty() || list.back() != w) list.push_back(w);
      }
    }
    s.swap(merged);
  }
  for (uint64_t pair : grown)
    if (const auto it = pair_counts_.find(pair); it != pair_counts_.end())
      queue_.push({it->second, pair});
}

void Trainer::learn_merges() {
  const size_t wanted = options_.vocab_size - 256 - options_.special_tokens.size();
  const std::unordered_set<std::string> specials(options_.special_tokens.begin(),
                                                 options_.special_tokens.end());
  if (!report(BpeTrainProgress::Stage::MERGING, 0, wanted)) return;
  while (merges_.size() < wanted && !queue_.empty()) {
    const Candidate top = queue_.top();
    queue_.pop();
    const auto it = pair_counts_.find(top.key);
    if (it == pair_counts_.end()) continue;
    if (it->second != top.count) {  // stale: counts only went down since this entry was pushed
      if (it->second < top.count) queue_.push({it->second, top.key});
      continue;
    }
    if (top.count < options_.min_pair_count) break;
    const std::string& left_text = texts_[static_cast<size_t>(key_left(top.key))];
    const std::string& right_text = texts_[static_cast<size_t>(key_right(top.key))];
    std::string text = left_text + right_text;
    if (specials.count(text) != 0) continue;  // never learn a token spelled like a special one
    merges_.push_back(left_text + " " + right_text);
    merge_counts_.push_back(top.count);
    texts_.push_back(std::move(text));
    merge(top.key, static_cast<int32_t>(texts_.size() - 1));
    if (merges_.size() % std::max<size_t>(options_.progress_every_merges, 1) == 0 &&
        !report(BpeTrainProgress::Stage::MERGING, merges_.size(), wanted))
      return;
  }
  report(BpeTrainProgress::Stage::MERGING, merges_.size(), wanted);
}

BpeTrainResult Trainer::result() const {
  BpeTrainResult result;
  TokenizerVocab& vocab = result.vocab;
  vocab.model = "gpt2";
  vocab.pre = options_.pre;
  vocab.tokens = texts_;
  vocab.types.assign(texts_.size(), TokenType::NORMAL);
  vocab.merges = merges_;
  for (const std::string& special : options_.special_tokens) {
    vocab.tokens.push_back(special);
    vocab.types.push_back(TokenType::CONTROL);
  }
  const auto special_id = [&](int index) -> std::optional<int32_t> {
    if (index < 0) return std::nullopt;
    return static_cast<int32_t>(texts_.size() + static_cast<size_t>(index));
  };
  vocab.bos = special_id(options_.bos_index);
  vocab.eos = special_id(options_.eos_index);
  result.merge_counts = merge_counts_;
  result.cancelled = cancelled_;
  result.reached_vocab_size = vocab.tokens.size() == options_.vocab_size;
  return result;
}

}  // namespace

BpeTrainResult train_bpe(std::span<const std::string> documents, const BpeTrainerOptions& options) {
  Trainer trainer(options);
  if (trainer.count_words(documents)) trainer.learn_merges();
  return trainer.result();
}

BpeTrainResult train_bpe_file(const std::filesystem::path& corpus,
                              const BpeTrainerOptions& options) {
  std::ifstream in(corpus, std::ios::binary);
  if (!in) throw Error(corpus.string() + ": cannot open the corpus file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(corpus.string() + ": read error");
  const std::vector<std::string> documents = {std::move(text).str()};
  return train_bpe(documents, options);
}

}  // namespace moe
