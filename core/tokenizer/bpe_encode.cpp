// Byte-level BPE encoding: pre-tokenize, then merge every piece's bytes by rank.
#include <cstdio>
#include <unordered_map>

#include "byte_unicode.hpp"
#include "moe/error.hpp"
#include "tokenizer_impl.hpp"

namespace moe {

void Tokenizer::Impl::encode_bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  if (pre->ignore_merges()) {
    if (const std::optional<int32_t> whole = find(tokenizer_detail::bytes_to_symbols(word))) {
      out.push_back(*whole);
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(word.size());
  const auto flush = [&] {
    merges.apply(symbols);
    out.insert(out.end(), symbols.begin(), symbols.end());
    symbols.clear();
  };
  for (char c : word) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte_token[byte] >= 0) {
      symbols.push_back(byte_token[byte]);
      continue;
    }
    // No token for this byte: merges cannot involve it (every merge is made of tokens), so the
    // bytes on either side are merged separately.
    flush();
    if (!vocab.unk) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", byte);
      throw Error(std::string("cannot encode byte ") + hex +
                  ": the vocabulary has no token for it and no unknown token");
    }
    out.push_back(*vocab.unk);
  }
  flush();
}

std::vector<int32_t> Tokenizer::Impl::encode_bpe(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  // Long texts repeat their words: merge each distinct piece once per call.
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;  // piece -> span in out
  for (const Fragment& fragment : split_literals(text)) {
    if (fragment.token >= 0) {
      out.push_back(fragment.token);
      continue;
    }
    for (std::string_view piece :
         pre->split(text.substr(fragment.begin, fragment.end - fragment.begin))) {
      if (const auto it = seen.find(piece); it != seen.end()) {
        const auto [begin, count] = it->second;
        for (size_t i = 0; i < count; ++i) out.push_back(out[begin + i]);
        continue;
      }
      const size_t begin = out.size();
      encode_bpe_word(piece, out);
      seen.emplace(piece, std::make_pair(begin, out.size() - begin));
    }
  }
  return out;
}

}  // namespace moe
