// User-defined tokens: literal strings cut out of the input before pre-tokenization, also when
// special-token text is not parsed (as Hugging Face tokenizers and llama.cpp do).
#include "tokenizer_impl.hpp"

namespace moe {

std::vector<Tokenizer::Impl::Fragment> Tokenizer::Impl::split_literals(
    std::string_view text) const {
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({0, text.size(), -1});
  std::vector<Fragment> next;
  // One token at a time, longest first: every occurrence in the raw fragments, left to right.
  for (int32_t id : literal_tokens) {
    const std::string& literal = vocab.tokens[static_cast<size_t>(id)];
    if (text.find(literal) == std::string_view::npos) continue;
    next.clear();
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        next.push_back(fragment);
        continue;
      }
      const std::string_view raw = text.substr(0, fragment.end);  // search this fragment only
      size_t begin = fragment.begin;
      for (size_t at; (at = raw.find(literal, begin)) != std::string_view::npos;
           begin = at + literal.size()) {
        if (at > begin) next.push_back({begin, at, -1});
        next.push_back({at, at + literal.size(), id});
      }
      if (begin < fragment.end) next.push_back({begin, fragment.end, -1});
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace moe
