// libFuzzer target: byte-level BPE must round-trip arbitrary bytes with every pre-tokenizer, and
// SentencePiece-style encoding too (up to the space it puts in front). The first input byte picks
// the tokenizer, the rest is the text. The BPE vocabularies are trained once at start-up on a
// small mixed-script text, plus a few user-defined (literal) tokens; the SentencePiece one reuses
// the pieces of the first, scored by their order.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
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

  moe::TokenizerVocab spm;
  spm.model = "llama";
  spm.tokens = {"<unk>", "<s>", "</s>"};
  spm.types = {moe::TokenType::UNKNOWN, moe::TokenType::CONTROL, moe::TokenType::CONTROL};
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    spm.tokens.push_back(name);
    spm.types.push_back(moe::TokenType::BYTE);
  }
  spm.scores.assign(spm.tokens.size(), 0.0f);
  std::set<std::string> seen;
  const moe::Tokenizer& bpe = tokenizers.front();
  for (int32_t id = 0; id < bpe.n_vocab(); ++id) {
    if (bpe.token_type(id) != moe::TokenType::NORMAL) continue;
    std::string piece;
    for (char c : bpe.token_piece(id))
      piece += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    if (!seen.insert(piece).second) continue;
    spm.tokens.push_back(piece);
    spm.types.push_back(moe::TokenType::NORMAL);
    spm.scores.push_back(-static_cast<float>(id));
  }
  tokenizers.emplace_back(spm);
  return tokenizers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<moe::Tokenizer> tokenizers = make_tokenizers();
  if (size == 0) return 0;
  const moe::Tokenizer& tokenizer = tokenizers[data[0] % tokenizers.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  if (tokenizer.model_name() == "llama") {
    // "▁" (U+2581) is SentencePiece's spelling of a space: in the input it comes back as one.
    std::string expected = text.empty() ? "" : " ";
    for (size_t pos = 0; pos < text.size(); ++pos) {
      if (text.compare(pos, 3, "\xE2\x96\x81") == 0) {
        expected += ' ';
        pos += 2;
      } else {
        expected += text[pos];
      }
    }
    if (tokenizer.decode(tokenizer.encode(text)) != expected) {
      std::fprintf(stderr, "SentencePiece round trip failed\n");
      std::abort();
    }
    return 0;
  }

  std::string joined;
  for (const std::string& piece : tokenizer.pre_tokenize(text)) {
    if (piece.empty()) std::abort();
    joined += piece;
  }
  if (joined != text) std::abort();

  const std::vector<int32_t> ids = tokenizer.encode(text);
  if (tokenizer.decode(ids) != text) {
    std::fprintf(stderr, "round trip failed with pre-tokenizer '%s'\n",
                 tokenizer.pre_name().c_str());
    std::abort();
  }
  return 0;
}
