// SentencePiece-style encoding (tokenizer.ggml.model = "llama"): spaces become U+2581 "▁" (one
// is put in front of the text), the text is cut into UTF-8 characters, and the adjacent pair
// whose concatenation is the best-scored token is merged first (ties: the leftmost), until no
// pair forms a token. A character that is not a token falls back to its bytes, "<0xXX>".
#include <cstdio>
#include <queue>

#include "moe/error.hpp"
#include "tokenizer_impl.hpp"
#include "utf8.hpp"

namespace moe {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

uint32_t character_key(std::string_view character) {
  uint32_t key = 0;
  for (char c : character) key = (key << 8) | static_cast<uint8_t>(c);
  return key;
}

}  // namespace

namespace tokenizer_detail {

// (llama.cpp groups by the lead byte alone, which can swallow the "▁" after a truncated sequence
// into byte tokens and lose the space; on valid UTF-8 both agree.)
size_t spm_character_length(std::string_view text, size_t pos) {
  const size_t length = utf8_sequence_length(text, pos);
  return length == 0 ? 1 : length;
}

uint64_t spm_character_pair(std::string_view left, std::string_view right) {
  return (static_cast<uint64_t>(character_key(left)) << 32) | character_key(right);
}

}  // namespace tokenizer_detail

void Tokenizer::Impl::push_spm_byte(uint8_t byte, std::vector<int32_t>& out) const {
  if (spm_byte_token[byte] >= 0) {
    out.push_back(spm_byte_token[byte]);
  } else if (vocab.unk) {
    out.push_back(*vocab.unk);
  } else {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", byte);
    throw Error(std::string("cannot encode byte ") + hex +
                ": the vocabulary has no byte token for it and no unknown token");
  }
}

void Tokenizer::Impl::encode_spm_text(std::string_view text, std::vector<int32_t>& out) const {
  struct Symbol {
    size_t begin;
    size_t length;  // 0 once merged into its left neighbour
    int64_t prev;
    int64_t next;
  };
  std::vector<Symbol> symbols;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = tokenizer_detail::spm_character_length(text, pos);
    const auto index = static_cast<int64_t>(symbols.size());
    symbols.push_back({pos, length, index - 1, pos + length == text.size() ? -1 : index + 1});
    pos += length;
  }

  struct Bigram {
    float score;
    int64_t left;
    size_t length;                               // of the merged text: tells stale entries apart
    bool operator<(const Bigram& other) const {  // top: best score, then leftmost
      return score != other.score ? score < other.score : left > other.left;
    }
  };
  std::priority_queue<Bigram> queue;
  const auto mergeable = [&](std::string_view piece) -> std::optional<int32_t> {
    const std::optional<int32_t> id = find(piece);
    if (!id || !spm_mergeable[static_cast<size_t>(*id)]) return std::nullopt;
    return id;
  };
  const auto try_add = [&](int64_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Symbol& l = symbols[left];
    const size_t length = l.length + symbols[l.next].length;
    if (const std::optional<int32_t> id = mergeable(text.substr(l.begin, length))) {
      const float score = vocab.scores.empty() ? 0.0f : vocab.scores[static_cast<size_t>(*id)];
      queue.push({score, left, length});
    }
  };
  for (int64_t i = 0; i + 1 < static_cast<int64_t>(symbols.size()); ++i) try_add(i);

  while (!queue.empty()) {
    const Bigram top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.left];
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (left.length + right.length != top.length) continue;  // stale
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.left;
    try_add(left.prev);
    try_add(top.left);
  }

  for (int64_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].begin, symbols[i].length);
    if (const std::optional<int32_t> id = mergeable(piece)) {
      out.push_back(*id);
    } else {
      for (char c : piece) push_spm_byte(static_cast<uint8_t>(c), out);
    }
  }
}

// Cuts the text where no merge can cross (see spm_inner_pairs) and encodes each part once.
void Tokenizer::Impl::encode_spm_words(std::string_view text, std::vector<int32_t>& out) const {
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;  // part -> span in out
  const auto encode_part = [&](std::string_view part) {
    if (const auto it = seen.find(part); it != seen.end()) {
      const auto [begin, count] = it->second;
      for (size_t i = 0; i < count; ++i) out.push_back(out[begin + i]);
      return;
    }
    const size_t begin = out.size();
    encode_spm_text(part, out);
    seen.emplace(part, std::make_pair(begin, out.size() - begin));
  };
  size_t part_begin = 0;
  size_t previous = 0;  // start of the previous character
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = tokenizer_detail::spm_character_length(text, pos);
    if (pos > 0) {
      const std::string_view left = text.substr(previous, pos - previous);
      if (spm_inner_pairs.count(
              tokenizer_detail::spm_character_pair(left, text.substr(pos, length))) == 0) {
        encode_part(text.substr(part_begin, pos - part_begin));
        part_begin = pos;
      }
    }
    previous = pos;
    pos += length;
  }
  if (part_begin < text.size()) encode_part(text.substr(part_begin));
}

std::vector<int32_t> Tokenizer::Impl::encode_spm(std::string_view text) const {
  std::vector<int32_t> out;
  bool after_literal = true;  // the start of the text counts as following a literal token
  std::string escaped;
  for (const Fragment& fragment : split_literals(text)) {
    if (fragment.token >= 0) {
      out.push_back(fragment.token);
      after_literal = true;
      continue;
    }
    escaped.clear();
    if (add_space_prefix && after_literal) escaped += kSpace;
    for (char c : text.substr(fragment.begin, fragment.end - fragment.begin)) {
      if (c == ' ')
        escaped += kSpace;
      else
        escaped += c;
    }
    encode_spm_words(escaped, out);
    after_literal = false;
  }
  return out;
}

}  // namespace moe
