#include "moe/token_words.hpp"

#include <string_view>

namespace moe {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool is_space_byte(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// ASCII punctuation and symbols: each is a word of its own ("15 × 8," -> "15", "×", "8", ",").
bool is_ascii_punctuation(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x80 && !is_space_byte(c) && !(c >= '0' && c <= '9') &&
         !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && byte >= 0x20;
}

bool begins_a_word(std::string_view piece) {
  if (piece.empty()) return true;
  return is_space_byte(piece.front()) || is_ascii_punctuation(piece.front()) ||
         starts_with(piece, "\xC4\xA0") || starts_with(piece, "\xE2\x96\x81");  // Ġ, ▁
}

bool ends_a_word(std::string_view piece) {
  return piece.empty() || is_space_byte(piece.back()) || is_ascii_punctuation(piece.back());
}

}  // namespace

std::vector<int> word_of_tokens(const std::vector<std::string>& pieces) {
  std::vector<int> words;
  words.reserve(pieces.size());
  int word = -1;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i == 0 || begins_a_word(pieces[i]) || ends_a_word(pieces[i - 1])) ++word;
    words.push_back(word);
  }
  return words;
}

}  // namespace moe

namespace moe {

std::vector<int> tokens_per_word(const std::vector<std::string>& pieces) {
  // Walk the text byte by byte, knowing which token each byte came from; a word counts every
  // token that gave it at least one byte, and a token counts once per word.
  std::vector<int> counts;
  bool in_word = false;
  for (const std::string& piece : pieces) {
    bool counted = false;  // this token already counted for the current word
    for (char c : piece) {
      if (is_space_byte(c)) {
        in_word = false;
        counted = false;
        continue;
      }
      if (!in_word) {
        counts.push_back(0);
        in_word = true;
      }
      if (!counted) {
        counts.back() += 1;
        counted = true;
      }
    }
  }
  return counts;
}

}  // namespace moe
