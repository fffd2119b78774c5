#pragma once
// The shared, immutable state behind moe::Tokenizer.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bpe_merges.hpp"
#include "moe/tokenizer.hpp"

namespace moe {

namespace tokenizer_detail {
// Length of the character at text[pos] as SentencePiece encoding sees it: a well-formed UTF-8
// sequence, or a single byte of broken UTF-8.
size_t spm_character_length(std::string_view text, size_t pos);
// Key of two adjacent characters (each 1..4 bytes).
uint64_t spm_character_pair(std::string_view left, std::string_view right);
}  // namespace tokenizer_detail

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

struct Tokenizer::Impl {
  TokenizerVocab vocab;
  std::vector<std::string> pieces;  // the bytes each token stands for
  // token text -> id; with duplicate texts the first id wins
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids;

  // User-defined tokens are literal text: they are cut out of the input before anything else,
  // longest first (ties: lower id first), and decode to their text.
  std::vector<int32_t> literal_tokens;

  // Byte-level BPE
  std::optional<PreTokenizer> pre;
  std::array<int32_t, 256> byte_token{};  // -1 when the vocabulary lacks the byte
  tokenizer_detail::BpeMerges merges;

  // SentencePiece
  bool is_spm = false;
  bool add_space_prefix = true;
  std::vector<uint8_t> spm_mergeable;         // per token: may a merge or a whole symbol produce it
  std::array<int32_t, 256> spm_byte_token{};  // "<0xXX>" byte-fallback tokens, -1 when absent
  // Pairs of adjacent characters (see spm_character_pair) found inside some mergeable token. Where
  // two neighbours form no such pair, no merge can ever cross: the text is cut there.
  std::unordered_set<uint64_t> spm_inner_pairs;

  // A piece of the input: raw text (token < 0) or an already chosen token.
  struct Fragment {
    size_t begin;
    size_t end;
    int32_t token;
  };
  std::vector<Fragment> split_literals(std::string_view text) const;

  std::optional<int32_t> find(std::string_view text) const {
    const auto it = ids.find(text);
    return it == ids.end() ? std::nullopt : std::optional<int32_t>(it->second);
  }
  void encode_bpe_word(std::string_view word, std::vector<int32_t>& out) const;
  std::vector<int32_t> encode_bpe(std::string_view text) const;
  void encode_spm_text(std::string_view text, std::vector<int32_t>& out) const;
  void encode_spm_words(std::string_view text, std::vector<int32_t>& out) const;
  void push_spm_byte(uint8_t byte, std::vector<int32_t>& out) const;
  std::vector<int32_t> encode_spm(std::string_view text) const;
};

}  // namespace moe
