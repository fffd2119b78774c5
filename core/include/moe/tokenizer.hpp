#pragma once
// Text <-> token ids for the models moescope loads.
//
// Supported tokenizer models (GGUF key tokenizer.ggml.model):
//   "gpt2"   byte-level BPE: text is split by a regex pre-tokenizer (tokenizer.ggml.pre), every
//            piece is mapped byte by byte onto the GPT-2 byte-to-unicode alphabet and merged by
//            rank (tokenizer.ggml.merges).
//   "llama"  SentencePiece-style BPE (Llama 1/2, Mixtral, Phi-3.5-MoE): spaces become "▁", one
//            "▁" is put in front, characters merge by token score (tokenizer.ggml.scores), and
//            characters without a token fall back to byte tokens "<0xXX>".
// User-defined tokens (type USER_DEFINED) are literal text: they are cut out of the input first.
// Any byte string round-trips, also invalid UTF-8, NULs and emoji, as long as the vocabulary has
// a token for every byte that occurs (see encode()): decode(encode(s)) == s for "gpt2", and
// == " " + s for "llama" (the space it puts in front; also after each user-defined token; and a
// "▁" U+2581 in s, SentencePiece's spelling of a space, comes back as a space).
//
// A Tokenizer is immutable once built and cheap to copy (shared state); every const member may be
// called from several threads at once.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

namespace gguf {
class GgufFile;
class GgufWriter;
}  // namespace gguf

// Token types as stored in tokenizer.ggml.token_type (llama.cpp's numbering).
enum class TokenType : int32_t {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
};

// The vocabulary as stored in GGUF metadata, before validation.
struct TokenizerVocab {
  std::string model = "gpt2";            // tokenizer.ggml.model
  std::string pre = "gpt-2";             // tokenizer.ggml.pre ("" when the file has none)
  std::vector<std::string> tokens;       // tokenizer.ggml.tokens, in the model's own alphabet
  std::vector<TokenType> types;          // tokenizer.ggml.token_type; empty = all NORMAL
  std::vector<std::string> merges;       // tokenizer.ggml.merges, "left right"; BPE only
  std::vector<float> scores;             // tokenizer.ggml.scores; SentencePiece only
  std::optional<int32_t> bos;            // tokenizer.ggml.bos_token_id
  std::optional<int32_t> eos;            // tokenizer.ggml.eos_token_id
  std::optional<int32_t> unk;            // tokenizer.ggml.unknown_token_id
  std::optional<bool> add_space_prefix;  // tokenizer.ggml.add_space_prefix; SentencePiece only
                                         // (absent = true)
};

// Reads the tokenizer.ggml.* keys, checking their types (not their consistency: the Tokenizer
// constructor does that). Throws moe::Error naming the key.
TokenizerVocab read_tokenizer_vocab(const gguf::GgufFile& file);
// Stores the vocabulary under the standard tokenizer.ggml.* keys.
void write_tokenizer_vocab(gguf::GgufWriter& writer, const TokenizerVocab& vocab);

// Splits text into the pieces that BPE merges never cross, with the regex list of a named
// pre-tokenizer (PCRE2, UTF + UCP, JIT when available). Regexes are applied one after another;
// each one splits every piece of the previous step into its matches and the gaps between them.
//
// Invalid UTF-8: PCRE2 cannot match it, so before any regex runs every maximal run of bytes that
// is not valid UTF-8 (stray continuation bytes, truncated sequences, overlongs, surrogates,
// bytes F5..FF) becomes a piece of its own, and the valid text on either side is split on its
// own. The concatenation of the pieces is always the input.
class PreTokenizer {
public:
  // Throws moe::Error naming `name` and listing the supported names when it is unknown.
  // "" and "default" mean the GPT-2 regex.
  static PreTokenizer create(std::string_view name);
  static std::vector<std::string> supported_names();

  // Views into `text`, in order, none empty.
  std::vector<std::string_view> split(std::string_view text) const;
  const std::string& name() const;
  // Whether a piece that is itself a token is emitted whole, ignoring merges (llama-3 style).
  bool ignore_merges() const;

private:
  PreTokenizer() = default;
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

class Tokenizer {
public:
  // Validates everything: token/type/score counts, token types, merges referring to tokens,
  // special ids in range, supported model and pre-tokenizer. Throws moe::Error.
  explicit Tokenizer(TokenizerVocab vocab);
  // read_tokenizer_vocab + the constructor; errors name the file.
  static Tokenizer from_gguf(const gguf::GgufFile& file);

  static std::vector<std::string> supported_models();

  // Token ids for `text`. No BOS/EOS is added and special-token text is plain text. A byte the
  // vocabulary has no token for becomes the unknown token, or throws moe::Error when there is
  // none (byte-level vocabularies normally cover all 256 bytes).
  std::vector<int32_t> encode(std::string_view text) const;
  // The bytes the ids stand for, concatenated (control tokens give their text, e.g. "<s>").
  // Throws moe::Error for an id out of range.
  std::string decode(std::span<const int32_t> ids) const;
  // The bytes one token stands for. Throws moe::Error for an id out of range.
  const std::string& token_piece(int32_t id) const;
  // The token as stored in the vocabulary (byte-level alphabet, e.g. "Ġthe").
  const std::string& token_text(int32_t id) const;
  TokenType token_type(int32_t id) const;
  std::optional<int32_t> find_token(std::string_view token_text) const;
  // The pre-tokenizer's pieces (for display); empty for models without one.
  std::vector<std::string> pre_tokenize(std::string_view text) const;

  int32_t n_vocab() const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> unk_id() const;
  const std::string& model_name() const;  // "gpt2"
  const std::string& pre_name() const;    // as stored in the file ("" when absent)
  const TokenizerVocab& vocab() const;

  struct Impl;

private:
  std::shared_ptr<const Impl> impl_;
};

// The BOS token a prompt starts with, as llama.cpp decides: the vocabulary's BOS unless the file
// says tokenizer.ggml.add_bos_token = false (absent means true).
std::optional<int32_t> prompt_bos(const Tokenizer& tokenizer, const gguf::GgufFile& file);

}  // namespace moe
