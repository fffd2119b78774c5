// tokenizer.ggml.* metadata <-> TokenizerVocab, and Tokenizer::from_gguf.
#include <limits>

#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/tokenizer.hpp"

namespace moe {

namespace {

using gguf::Value;
using gguf::ValueType;

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kBos = "tokenizer.ggml.bos_token_id";
constexpr const char* kEos = "tokenizer.ggml.eos_token_id";
constexpr const char* kUnk = "tokenizer.ggml.unknown_token_id";
constexpr const char* kAddSpacePrefix = "tokenizer.ggml.add_space_prefix";

std::string type_name(ValueType type) { return std::string(gguf::value_type_name(type)); }

const gguf::Array* find_array(const gguf::GgufFile& file, const char* key, bool required,
                              const char* wanted, bool (*element_ok)(ValueType)) {
  const Value* value = required ? &file.require(key) : file.find(key);
  if (value == nullptr) return nullptr;
  if (value->type() != ValueType::ARRAY)
    throw Error(std::string(key) + ": expected an array of " + wanted + ", found " +
                type_name(value->type()));
  const gguf::Array& array = value->as_array();
  if (!element_ok(array.element_type))
    throw Error(std::string(key) + ": expected an array of " + wanted + ", found an array of " +
                type_name(array.element_type));
  return &array;
}

std::vector<std::string> read_strings(const gguf::GgufFile& file, const char* key, bool required) {
  const gguf::Array* array = find_array(file, key, required, "strings",
                                        [](ValueType t) { return t == ValueType::STRING; });
  std::vector<std::string> out;
  if (array == nullptr) return out;
  out.reserve(array->items.size());
  for (const Value& item : array->items) out.push_back(item.as_string());
  return out;
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

std::optional<int32_t> read_token_id(const gguf::GgufFile& file, const char* key) {
  const Value* value = file.find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_integer())
    throw Error(std::string(key) + ": expected an integer token id, found " +
                type_name(value->type()));
  const int64_t id = value->as_int();
  if (id == -1) return std::nullopt;  // the usual spelling of "no such token"
  if (id < 0 || id > std::numeric_limits<int32_t>::max())
    throw Error(std::string(key) + ": token id " + std::to_string(id) + " is out of range");
  return static_cast<int32_t>(id);
}

std::string read_string(const gguf::GgufFile& file, const char* key, bool required) {
  const Value* value = required ? &file.require(key) : file.find(key);
  if (value == nullptr) return "";
  if (value->type() != ValueType::STRING)
    throw Error(std::string(key) + ": expected a string, found " + type_name(value->type()));
  return value->as_string();
}

}  // namespace

TokenizerVocab read_tokenizer_vocab(const gguf::GgufFile& file) {
  TokenizerVocab vocab;
  vocab.model = read_string(file, kModel, true);
  vocab.pre = read_string(file, kPre, false);
  vocab.tokens = read_strings(file, kTokens, true);
  vocab.merges = read_strings(file, kMerges, false);

  if (const gguf::Array* types = find_array(file, kTypes, false, "integers", is_integer_type)) {
    vocab.types.reserve(types->items.size());
    for (size_t i = 0; i < types->items.size(); ++i) {
      const int64_t type = types->items[i].as_int();
      if (type < 0 || type > static_cast<int64_t>(TokenType::BYTE))
        throw Error(std::string(kTypes) + "[" + std::to_string(i) + "]: unknown token type " +
                    std::to_string(type) + " (expected 0..6)");
      vocab.types.push_back(static_cast<TokenType>(type));
    }
  }
  if (const gguf::Array* scores = find_array(file, kScores, false, "numbers", [](ValueType t) {
        return t == ValueType::FLOAT32 || t == ValueType::FLOAT64 || is_integer_type(t);
      })) {
    vocab.scores.reserve(scores->items.size());
    for (const Value& item : scores->items)
      vocab.scores.push_back(static_cast<float>(item.as_double()));
  }
  vocab.bos = read_token_id(file, kBos);
  vocab.eos = read_token_id(file, kEos);
  vocab.unk = read_token_id(file, kUnk);
  if (const Value* value = file.find(kAddSpacePrefix)) {
    if (value->type() != ValueType::BOOL)
      throw Error(std::string(kAddSpacePrefix) + ": expected a bool, found " +
                  type_name(value->type()));
    vocab.add_space_prefix = value->as_bool();
  }
  return vocab;
}

void write_tokenizer_vocab(gguf::GgufWriter& writer, const TokenizerVocab& vocab) {
  writer.set_string(kModel, vocab.model);
  if (!vocab.pre.empty()) writer.set_string(kPre, vocab.pre);
  writer.set_string_array(kTokens, vocab.tokens);
  std::vector<int32_t> types(vocab.tokens.size(), static_cast<int32_t>(TokenType::NORMAL));
  for (size_t i = 0; i < vocab.types.size() && i < types.size(); ++i)
    types[i] = static_cast<int32_t>(vocab.types[i]);
  writer.set_i32_array(kTypes, types);
  if (!vocab.merges.empty()) writer.set_string_array(kMerges, vocab.merges);
  if (!vocab.scores.empty()) writer.set_f32_array(kScores, vocab.scores);
  if (vocab.bos) writer.set_u32(kBos, static_cast<uint32_t>(*vocab.bos));
  if (vocab.eos) writer.set_u32(kEos, static_cast<uint32_t>(*vocab.eos));
  if (vocab.unk) writer.set_u32(kUnk, static_cast<uint32_t>(*vocab.unk));
  if (vocab.add_space_prefix) writer.set_bool(kAddSpacePrefix, *vocab.add_space_prefix);
}

Tokenizer Tokenizer::from_gguf(const gguf::GgufFile& file) {
  try {
    return Tokenizer(read_tokenizer_vocab(file));
  } catch (const Error& e) {
    throw Error(file.source_name() + ": " + e.what());
  }
}

std::optional<int32_t> prompt_bos(const Tokenizer& tokenizer, const gguf::GgufFile& file) {
  if (!file.get_bool_or("tokenizer.ggml.add_bos_token", true)) return std::nullopt;
  return tokenizer.bos_id();
}

}  // namespace moe
