// libFuzzer target: byte-level BPE must round-trip arbitrary bytes with every pre-tokenizer.
// The first input byte picks the pre-tokenizer, the rest is the text. The vocabulary is trained
// once at start-up on a small mixed-script text, plus a few user-defined (literal) tokens.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "moe/bpe_trainer.hpp"
#include "moe/tokenizer.hpp"

namespace {

std::vector<moe::Tokenizer> make_tokenizers() {
  const std::vector<std::string> documents = {
      "The router sends each token to the top two of eight experts. Don't it's I'll 12345 67.\n",
      "  indented\tcode(x) { return x * 2; }\r\n\n# über naïve café Ωμέγα 中文字符 한국어 😀👍\n",
      "load balance load balance expert expert expert 0.25 0.5 1e-3 ...!!! ???\n"};
  std::vector<moe::Tokenizer> tokenizers;
  for (const std::string& pre : moe::PreTokenizer::supported_names()) {
    moe::BpeTrainerOptions options;
    options.vocab_size = 420;
    options.min_pair_count = 1;
    options.pre = pre;
    moe::TokenizerVocab vocab = moe::train_bpe(documents, options).vocab;
    for (const char* literal : {"<tag>", "ü", "\xFF\xFE", " x"}) {
      vocab.tokens.push_back(literal);
      vocab.types.push_back(moe::TokenType::USER_DEFINED);
    }
    tokenizers.emplace_back(vocab);
  }
  return tokenizers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<moe::Tokenizer> tokenizers = make_tokenizers();
  if (size == 0) return 0;
  const moe::Tokenizer& tokenizer = tokenizers[data[0] % tokenizers.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string joined;
  for (const std::string& piece : tokenizer.pre_tokenize(text)) {
    if (piece.empty()) std::abort();
    joined += piece;
  }
  if (joined != text) std::abort();

  const std::vector<int32_t> ids = tokenizer.encode(text);
  if (tokenizer.decode(ids) != text) {
    std::fprintf(stderr, "round trip failed with pre-tokenizer '%s'\n", tokenizer.pre_name().c_str());
    std::abort();
  }
  return 0;
}
