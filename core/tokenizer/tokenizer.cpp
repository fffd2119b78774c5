// moe::Tokenizer: validation of the vocabulary, the lookup tables, decoding and accessors.
#include <algorithm>
#include <cstdio>
#include <limits>

#include "byte_unicode.hpp"
#include "moe/error.hpp"
#include "tokenizer_impl.hpp"

namespace moe {

namespace {

using tokenizer_detail::byte_to_symbol;
using tokenizer_detail::symbols_to_bytes;

std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.append(1, '\'').append(text).append(1, '\'');
  return out;
}

void check_special_id(const std::optional<int32_t>& id, std::string_view key, size_t n_vocab) {
  if (id && (*id < 0 || static_cast<size_t>(*id) >= n_vocab))
    throw Error(std::string(key) + ": token id " + std::to_string(*id) + " is out of range (" +
                std::to_string(n_vocab) + " tokens)");
}

// What a token stands for: control-like and user-defined tokens their own text, the others the
// bytes their byte-level symbols encode (or their text when it is not in the byte-level alphabet).
std::string token_bytes(const std::string& text, TokenType type) {
  if (type == TokenType::CONTROL || type == TokenType::UNKNOWN || type == TokenType::UNUSED ||
      type == TokenType::USER_DEFINED)
    return text;
  std::optional<std::string> bytes = symbols_to_bytes(text);
  return bytes ? std::move(*bytes) : text;
}

void validate_common(const TokenizerVocab& vocab) {
  const size_t n = vocab.tokens.size();
  if (n == 0) throw Error("tokenizer.ggml.tokens: the vocabulary is empty");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw Error("tokenizer.ggml.tokens: too many tokens (" + std::to_string(n) + ")");
  if (!vocab.types.empty() && vocab.types.size() != n)
    throw Error("tokenizer.ggml.token_type: " + std::to_string(vocab.types.size()) +
                " entries for " + std::to_string(n) + " tokens");
  for (size_t i = 0; i < vocab.types.size(); ++i) {
    const auto value = static_cast<int32_t>(vocab.types[i]);
    if (value < 0 || value > static_cast<int32_t>(TokenType::BYTE))
      throw Error("tokenizer.ggml.token_type[" + std::to_string(i) + "]: unknown token type " +
                  std::to_string(value) + " (expected 0..6)");
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n)
    throw Error("tokenizer.ggml.scores: " + std::to_string(vocab.scores.size()) + " entries for " +
                std::to_string(n) + " tokens");
  check_special_id(vocab.bos, "tokenizer.ggml.bos_token_id", n);
  check_special_id(vocab.eos, "tokenizer.ggml.eos_token_id", n);
  check_special_id(vocab.unk, "tokenizer.ggml.unknown_token_id", n);
}

void build_bpe(Tokenizer::Impl& impl) {
  try {
    impl.pre = PreTokenizer::create(impl.vocab.pre);
  } catch (const Error& e) {
    throw Error(std::string("tokenizer.ggml.pre: ") + e.what());
  }
  // A byte's token: the normal token spelled with its symbol, else a user-defined one (what
  // llama.cpp does; it decodes to its text, not to the byte), else none.
  impl.byte_token.fill(-1);
  const auto type_of = [&](size_t id) {
    return impl.vocab.types.empty() ? TokenType::NORMAL : impl.vocab.types[id];
  };
  for (size_t id = 0; id < impl.vocab.tokens.size(); ++id) {
    const std::string& text = impl.vocab.tokens[id];
    if (text.empty() || text.size() > 2) continue;
    const std::optional<std::string> bytes = symbols_to_bytes(text);
    if (!bytes || bytes->size() != 1) continue;
    int32_t& slot = impl.byte_token[static_cast<uint8_t>((*bytes)[0])];
    const TokenType type = type_of(id);
    const bool mergeable =
        type == TokenType::NORMAL || type == TokenType::BYTE || type == TokenType::UNDEFINED;
    if (mergeable && (slot < 0 || type_of(static_cast<size_t>(slot)) == TokenType::USER_DEFINED))
      slot = static_cast<int32_t>(id);
    else if (type == TokenType::USER_DEFINED && slot < 0)
      slot = static_cast<int32_t>(id);
  }

  const std::vector<std::string>& merges = impl.vocab.merges;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& merge = merges[rank];
    const auto where = [&] {
      return "tokenizer.ggml.merges[" + std::to_string(rank) + "] " + quoted(merge);
    };
    // The separator is the first space after the first character (a left part may be " ").
    const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string::npos;
    if (space == std::string::npos || space + 1 >= merge.size())
      throw Error(where() + ": expected two tokens separated by a space");
    const std::string_view left = std::string_view(merge).substr(0, space);
    const std::string_view right = std::string_view(merge).substr(space + 1);
    const std::optional<int32_t> left_id = impl.find(left);
    const std::optional<int32_t> right_id = impl.find(right);
    const std::optional<int32_t> result_id = impl.find(std::string(left) + std::string(right));
    if (!left_id) throw Error(where() + ": " + quoted(left) + " is not a token");
    if (!right_id) throw Error(where() + ": " + quoted(right) + " is not a token");
    if (!result_id)
      throw Error(where() + ": the merged token " + quoted(std::string(left) + std::string(right)) +
                  " is not in the vocabulary");
    impl.merges.add(*left_id, *right_id, *result_id, static_cast<int32_t>(rank));
  }
}

// SentencePiece pieces: "▁" stands for a space, "<0xXX>" byte tokens for their byte.
std::string spm_token_bytes(const std::string& text, TokenType type) {
  if (type == TokenType::BYTE) {
    unsigned value = 0;
    char tail = 0;
    if (text.size() == 6 && std::sscanf(text.c_str(), "<0x%2X%c", &value, &tail) == 2 &&
        tail == '>')
      return std::string(1, static_cast<char>(value));
    return text;
  }
  if (type != TokenType::NORMAL && type != TokenType::UNDEFINED) return text;
  std::string out;
  for (size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      pos += 3;
    } else {
      out += text[pos++];
    }
  }
  return out;
}

// Every pair of adjacent characters inside `text`.
void add_inner_pairs(std::string_view text, std::unordered_set<uint64_t>& pairs) {
  size_t previous = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = tokenizer_detail::spm_character_length(text, pos);
    if (pos > 0)
      pairs.insert(tokenizer_detail::spm_character_pair(text.substr(previous, pos - previous),
                                                        text.substr(pos, length)));
    previous = pos;
    pos += length;
  }
}

void build_spm(Tokenizer::Impl& impl) {
  impl.is_spm = true;
  impl.add_space_prefix = impl.vocab.add_space_prefix.value_or(true);
  const size_t n = impl.vocab.tokens.size();
  impl.spm_mergeable.resize(n);
  for (size_t id = 0; id < n; ++id) {
    const TokenType type = impl.vocab.types.empty() ? TokenType::NORMAL : impl.vocab.types[id];
    impl.spm_mergeable[id] = type == TokenType::NORMAL || type == TokenType::USER_DEFINED ||
                             type == TokenType::UNDEFINED;
    impl.pieces[id] = spm_token_bytes(impl.vocab.tokens[id], type);
    if (impl.spm_mergeable[id]) add_inner_pairs(impl.vocab.tokens[id], impl.spm_inner_pairs);
  }
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    std::optional<int32_t> id = impl.find(name);
    if (!id) id = impl.find(std::string(1, static_cast<char>(byte)));
    impl.spm_byte_token[byte] = id.value_or(-1);
  }
}

const std::vector<std::string> kSupportedModels = {"gpt2", "llama"};

}  // namespace

Tokenizer::Tokenizer(TokenizerVocab vocab) {
  auto impl = std::make_shared<Impl>();
  impl->vocab = std::move(vocab);
  const TokenizerVocab& v = impl->vocab;
  validate_common(v);

  const size_t n = v.tokens.size();
  impl->ids.reserve(n);
  impl->pieces.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    impl->ids.try_emplace(v.tokens[i], static_cast<int32_t>(i));
    const TokenType type = v.types.empty() ? TokenType::NORMAL : v.types[i];
    impl->pieces.push_back(token_bytes(v.tokens[i], type));
    if (type == TokenType::USER_DEFINED && !v.tokens[i].empty())
      impl->literal_tokens.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(
      impl->literal_tokens.begin(), impl->literal_tokens.end(), [&](int32_t a, int32_t b) {
        return v.tokens[static_cast<size_t>(a)].size() > v.tokens[static_cast<size_t>(b)].size();
      });

  if (v.model == "gpt2") {
    build_bpe(*impl);
  } else if (v.model == "llama") {
    build_spm(*impl);
  } else {
    std::string message =
        "tokenizer.ggml.model: unknown tokenizer model " + quoted(v.model) + "; supported:";
    for (const std::string& model : kSupportedModels) message += " " + model;
    throw Error(message);
  }
  impl_ = std::move(impl);
}

std::vector<std::string> Tokenizer::supported_models() { return kSupportedModels; }

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  return impl_->is_spm ? impl_->encode_spm(text) : impl_->encode_bpe(text);
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) out += token_piece(id);
  return out;
}

const std::string& Tokenizer::token_piece(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    throw Error("token id " + std::to_string(id) + " is out of range (" +
                std::to_string(n_vocab()) + " tokens)");
  return impl_->pieces[static_cast<size_t>(id)];
}

const std::string& Tokenizer::token_text(int32_t id) const {
  token_piece(id);  // range check
  return impl_->vocab.tokens[static_cast<size_t>(id)];
}

TokenType Tokenizer::token_type(int32_t id) const {
  token_piece(id);  // range check
  return impl_->vocab.types.empty() ? TokenType::NORMAL
                                    : impl_->vocab.types[static_cast<size_t>(id)];
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  return impl_->find(text);
}

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> out;
  if (impl_->pre)
    for (std::string_view piece : impl_->pre->split(text)) out.emplace_back(piece);
  return out;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->vocab.tokens.size()); }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->vocab.bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->vocab.eos; }
std::optional<int32_t> Tokenizer::unk_id() const { return impl_->vocab.unk; }
const std::string& Tokenizer::model_name() const { return impl_->vocab.model; }
const std::string& Tokenizer::pre_name() const { return impl_->vocab.pre; }
const TokenizerVocab& Tokenizer::vocab() const { return impl_->vocab; }

}  // namespace moe
