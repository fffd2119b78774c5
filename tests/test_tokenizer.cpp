// Tokenizer on small hand-made vocabularies: hand-checked merges, byte round trips, the
// pre-tokenizers, user-defined tokens, and every validation error on bad metadata.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/token_display.hpp"
#include "moe/token_words.hpp"
#include "moe/tokenizer.hpp"

namespace {

using moe::Tokenizer;
using moe::TokenizerVocab;
using moe::TokenType;

// The GPT-2 byte alphabet, written independently of the library as a cross-check: printable
// Latin-1 stands for itself, the other bytes for U+0100, U+0101, ... in increasing order.
std::string symbol(uint8_t byte) {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> out(256);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const int cp = printable ? b : 0x100 + extra++;
      if (cp < 0x80)
        out[b] = std::string(1, static_cast<char>(cp));
      else
        out[b] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
    return out;
  }();
  return table[byte];
}

std::string symbols(std::string_view bytes) {
  std::string out;
  for (char c : bytes) out += symbol(static_cast<uint8_t>(c));
  return out;
}

// 256 byte tokens (id = byte value), then one token per merge, then "<s>" and "</s>".
TokenizerVocab byte_vocab(const std::vector<std::pair<std::string, std::string>>& merges,
                          std::string pre = "gpt-2") {
  TokenizerVocab vocab;
  vocab.pre = std::move(pre);
  for (int b = 0; b < 256; ++b) vocab.tokens.push_back(symbol(static_cast<uint8_t>(b)));
  for (const auto& [left, right] : merges) {
    vocab.merges.push_back(symbols(left) + " " + symbols(right));
    vocab.tokens.push_back(symbols(left + right));
  }
  vocab.types.assign(vocab.tokens.size(), TokenType::NORMAL);
  vocab.tokens.push_back("<s>");
  vocab.tokens.push_back("</s>");
  vocab.types.push_back(TokenType::CONTROL);
  vocab.types.push_back(TokenType::CONTROL);
  vocab.bos = static_cast<int32_t>(vocab.tokens.size() - 2);
  vocab.eos = static_cast<int32_t>(vocab.tokens.size() - 1);
  return vocab;
}

const std::vector<std::pair<std::string, std::string>> kMerges = {
    {"l", "l"}, {"h", "e"},    {"he", "ll"},   {"hell", "o"}, {" ", "w"},   {" w", "o"},
    {"r", "l"}, {" wo", "rl"}, {" worl", "d"}, {"a", "a"},    {"aa", "aa"}, {"1", "2"},
};

std::string random_bytes(std::mt19937& rng, size_t max_length) {
  std::uniform_int_distribution<size_t> length(0, max_length);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(length(rng), '\0');
  for (char& c : out) c = static_cast<char>(byte(rng));
  return out;
}

// Text that mixes ASCII, CJK, emoji, combining marks, odd whitespace and broken UTF-8.
std::string random_mixed(std::mt19937& rng, size_t parts) {
  static const std::vector<std::string> alphabet = {"a",
                                                    "Z",
                                                    " ",
                                                    "  ",
                                                    "\n",
                                                    "\r\n",
                                                    "\t",
                                                    "1",
                                                    "42",
                                                    "'s",
                                                    "'LL",
                                                    ".",
                                                    "!!",
                                                    "中",
                                                    "文字",
                                                    "한국어",
                                                    "😀",
                                                    "👩‍👩‍👧",
                                                    "e\xCC\x81",
                                                    "\xC2\xA0",
                                                    "\xE3\x80\x80",
                                                    "\xE2\x80\xA8",
                                                    "\x80",
                                                    "\xFF",
                                                    "\xC3",
                                                    "\xE2\x82",
                                                    "\xED\xA0\x80",
                                                    "\xC0\xAF",
                                                    std::string(1, '\0'),
                                                    "\xF4\x90\x80\x80",
                                                    "ü",
                                                    "ℕ",
                                                    "١٢",
                                                    "µ",
                                                    "x",
                                                    "hello",
                                                    "world"};
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < parts; ++i) out += alphabet[pick(rng)];
  return out;
}

TEST(Tokenizer, HandCheckedMerges) {
  const Tokenizer tokenizer(byte_vocab(kMerges));
  // "hello": h e l l o -> (l l) -> (h e) -> (he ll) -> (hell o) = id 256 + 3.
  // " world": ' ' w o r l d -> ( w) -> ( w o) -> (r l) -> ( wo rl) -> ( worl d) = 256 + 8.
  EXPECT_EQ(tokenizer.encode("hello world"), (std::vector<int32_t>{259, 264}));
  EXPECT_EQ(tokenizer.encode("hello"), (std::vector<int32_t>{259}));
  // "help": only (h e) applies; 'l' 'p' stay bytes.
  EXPECT_EQ(tokenizer.encode("help"), (std::vector<int32_t>{257, 'l', 'p'}));
  // Pre-tokenizer boundary: "ll" inside "he ll" would merge, but " " starts a new piece.
  EXPECT_EQ(tokenizer.encode("l l"), (std::vector<int32_t>{'l', ' ', 'l'}));
  // Equal ranks merge the leftmost pair first: a a a -> (aa) a; five: (aaaa) a.
  EXPECT_EQ(tokenizer.encode("aaa"), (std::vector<int32_t>{265, 'a'}));
  EXPECT_EQ(tokenizer.encode("aaaaa"), (std::vector<int32_t>{266, 'a'}));
  EXPECT_EQ(tokenizer.encode(""), std::vector<int32_t>{});
  EXPECT_EQ(tokenizer.token_piece(264), " world");
  EXPECT_EQ(tokenizer.token_text(264), "\xC4\xA0world");  // "Ġworld"
  EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{259, 264}), "hello world");
}

TEST(Tokenizer, LongRunsAreMergedAndRoundTrip) {
  const Tokenizer tokenizer(byte_vocab(kMerges));
  const std::string run(100000, 'a');  // one pre-tokenizer piece of 100 KB
  const std::vector<int32_t> ids = tokenizer.encode(run);
  EXPECT_EQ(ids, std::vector<int32_t>(25000, 266));
  EXPECT_EQ(tokenizer.decode(ids), run);
  const std::string blanks = std::string(50000, ' ') + "x" + std::string(50000, '\n');
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(blanks)), blanks);
}

TEST(Tokenizer, AccessorsAndSpecialTokens) {
  const Tokenizer tokenizer(byte_vocab(kMerges));
  EXPECT_EQ(tokenizer.n_vocab(), 256 + 12 + 2);
  EXPECT_EQ(tokenizer.bos_id(), 268);
  EXPECT_EQ(tokenizer.eos_id(), 269);
  EXPECT_FALSE(tokenizer.unk_id().has_value());
  EXPECT_EQ(tokenizer.model_name(), "gpt2");
  EXPECT_EQ(tokenizer.pre_name(), "gpt-2");
  EXPECT_EQ(tokenizer.token_type(268), TokenType::CONTROL);
  EXPECT_EQ(tokenizer.token_piece(268), "<s>");
  EXPECT_EQ(tokenizer.find_token("<s>"), 268);
  EXPECT_FALSE(tokenizer.find_token("nope").has_value());
  // Control-token text in the input is plain text.
  EXPECT_EQ(tokenizer.encode("<s>"), (std::vector<int32_t>{'<', 's', '>'}));
  EXPECT_THROW(tokenizer.token_piece(270), moe::Error);
  EXPECT_THROW(tokenizer.token_piece(-1), moe::Error);
  EXPECT_THROW(tokenizer.decode(std::vector<int32_t>{1, 999}), moe::Error);
}

TEST(Tokenizer, RoundTripsAnyBytesWithEveryPreTokenizer) {
  std::mt19937 rng(1234);
  for (const std::string& pre : moe::PreTokenizer::supported_names()) {
    const Tokenizer tokenizer(byte_vocab(kMerges, pre));
    for (int i = 0; i < 200; ++i) {
      const std::string text = i % 2 ? random_bytes(rng, 64) : random_mixed(rng, 24);
      const std::vector<int32_t> ids = tokenizer.encode(text);
      ASSERT_EQ(tokenizer.decode(ids), text) << "pre-tokenizer " << pre;
      for (int32_t id : ids) ASSERT_EQ(tokenizer.token_type(id), TokenType::NORMAL);
    }
    for (const std::string& text :
         {std::string(), std::string(3, '\0'), std::string("\xF0\x9F\x98"), std::string("😀🎉中文 ü"),
          std::string("\x80\x80\x80 x")})
      EXPECT_EQ(tokenizer.decode(tokenizer.encode(text)), text) << "pre-tokenizer " << pre;
  }
}

TEST(PreTokenizer, Gpt2Splits) {
  const auto pre = moe::PreTokenizer::create("gpt-2");
  const auto split = [&](std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view piece : pre.split(text)) out.emplace_back(piece);
    return out;
  };
  using Pieces = std::vector<std::string>;
  EXPECT_EQ(split("Hello world's 123!?"), (Pieces{"Hello", " world", "'s", " 123", "!?"}));
  // \s+(?!\S): the last blank before a word goes with the word.
  EXPECT_EQ(split("a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(split("a \n\n b"), (Pieces{"a", " \n\n", " b"}));
  EXPECT_EQ(split("  "), (Pieces{"  "}));
  // Letters and numbers by Unicode category.
  EXPECT_EQ(split(" Führer ١٢٣ 中文"), (Pieces{" Führer", " ١٢٣", " 中文"}));
  // Invalid UTF-8 runs are pieces of their own; valid text around them is split on its own.
  EXPECT_EQ(split("ab\xFF\xFE"
                  "cd \x80"),
            (Pieces{"ab", "\xFF\xFE", "cd", " ", "\x80"}));
  EXPECT_EQ(split(std::string("a\0b", 3)), (Pieces{"a", std::string(1, '\0'), "b"}));
  EXPECT_TRUE(split("").empty());
}

TEST(PreTokenizer, OtherRegexLists) {
  const auto split = [](std::string_view name, std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view piece : moe::PreTokenizer::create(name).split(text))
      out.emplace_back(piece);
    return out;
  };
  using Pieces = std::vector<std::string>;
  EXPECT_EQ(split("starcoder", "x 2024y"), (Pieces{"x", " ", "2", "0", "2", "4", "y"}));
  EXPECT_EQ(split("llama3", "I'M 12345 ok\n\n"),
            (Pieces{"I", "'M", " ", "123", "45", " ok", "\n\n"}));
  EXPECT_EQ(split("qwen2", "a 123"), (Pieces{"a", " ", "1", "2", "3"}));
  EXPECT_EQ(split("deepseek-coder", "ab 中文\n12"), (Pieces{"ab", " ", "中文", "\n", "1", "2"}));
  EXPECT_EQ(split("deepseek-llm", "x  \t"), (Pieces{"x", "  \t"}));
  // U+3000 is whitespace, never part of the CJK class (llama.cpp's behaviour).
  EXPECT_EQ(split("deepseek-coder", "中\xE3\x80\x80文"), (Pieces{"中", "\xE3\x80\x80", "文"}));
  EXPECT_TRUE(moe::PreTokenizer::create("llama3").ignore_merges());
  EXPECT_FALSE(moe::PreTokenizer::create("gpt-2").ignore_merges());
  EXPECT_EQ(moe::PreTokenizer::create("").name(), "");
}

TEST(PreTokenizer, PiecesAlwaysConcatenateToTheInput) {
  std::mt19937 rng(99);
  for (const std::string& name : moe::PreTokenizer::supported_names()) {
    const auto pre = moe::PreTokenizer::create(name);
    for (int i = 0; i < 100; ++i) {
      const std::string text = i % 2 ? random_bytes(rng, 80) : random_mixed(rng, 30);
      std::string joined;
      for (std::string_view piece : pre.split(text)) {
        ASSERT_FALSE(piece.empty()) << name;
        joined += piece;
      }
      ASSERT_EQ(joined, text) << name;
    }
  }
}

TEST(PreTokenizer, UnknownNameListsTheSupportedOnes) {
  try {
    moe::PreTokenizer::create("klingon");
    FAIL() << "no error";
  } catch (const moe::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'klingon'"), std::string::npos) << message;
    for (const char* name : {"gpt-2", "starcoder", "deepseek-coder", "llama-bpe", "qwen2", "olmo"})
      EXPECT_NE(message.find(name), std::string::npos) << name << " missing in: " << message;
  }
}

TEST(Tokenizer, UserDefinedTokensAreLiteralText) {
  TokenizerVocab vocab = byte_vocab(kMerges);
  vocab.tokens.push_back("<tag>");
  vocab.types.push_back(TokenType::USER_DEFINED);
  vocab.tokens.push_back("<tag><tag>");  // longer literals are cut out first
  vocab.types.push_back(TokenType::USER_DEFINED);
  vocab.tokens.push_back("ü");  // literal UTF-8, not byte-level symbols
  vocab.types.push_back(TokenType::USER_DEFINED);
  const Tokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("hello<tag>"), (std::vector<int32_t>{259, 270}));
  EXPECT_EQ(tokenizer.encode("<tag><tag><tag>x"), (std::vector<int32_t>{271, 270, 'x'}));
  EXPECT_EQ(tokenizer.encode("Fü"), (std::vector<int32_t>{'F', 272}));
  EXPECT_EQ(tokenizer.token_piece(272), "ü");
  const std::string text = "a<tag>b<tag><tag>üü<ta";
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(text)), text);
}

TEST(Tokenizer, IgnoreMergesTakesWholeWordTokens) {
  TokenizerVocab vocab = byte_vocab({{"h", "e"}}, "llama-bpe");
  vocab.tokens.push_back("hex");  // reachable by no merge
  vocab.types.push_back(TokenType::NORMAL);
  EXPECT_EQ(Tokenizer(vocab).encode("hex"), (std::vector<int32_t>{259}));
  vocab.pre = "qwen2";
  EXPECT_EQ(Tokenizer(vocab).encode("hex"), (std::vector<int32_t>{256, 'x'}));
}

TEST(Tokenizer, MissingByteTokens) {
  TokenizerVocab vocab = byte_vocab({});
  vocab.tokens[0xFF] = "<unused-ff>";
  vocab.types[0xFF] = TokenType::UNUSED;
  try {
    Tokenizer(vocab).encode("ok\xFF");
    FAIL() << "no error";
  } catch (const moe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("0xFF"), std::string::npos) << e.what();
  }
  vocab.unk = 0xFF;
  EXPECT_EQ(Tokenizer(vocab).encode("o\xFFk"), (std::vector<int32_t>{'o', 0xFF, 'k'}));
}

// GGUF metadata -> Tokenizer, through the real reader.
moe::gguf::GgufWriter writer_for(const TokenizerVocab& vocab) {
  moe::gguf::GgufWriter writer;
  writer.set_string("general.architecture", "test");
  moe::write_tokenizer_vocab(writer, vocab);
  return writer;
}

// ---- SentencePiece ("llama") ----

// <unk> <s> </s>, 256 byte tokens <0x00>..<0xFF> (ids 3..258), then scored pieces from 259.
TokenizerVocab spm_vocab(bool with_lo) {
  TokenizerVocab vocab;
  vocab.model = "llama";
  vocab.pre = "default";
  vocab.tokens = {"<unk>", "<s>", "</s>"};
  vocab.types = {TokenType::UNKNOWN, TokenType::CONTROL, TokenType::CONTROL};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab.tokens.push_back(name);
    vocab.types.push_back(TokenType::BYTE);
  }
  vocab.scores.assign(vocab.tokens.size(), 0.0f);
  const std::vector<std::pair<std::string, float>> pieces = {{"\xE2\x96\x81", 0},
                                                             {"h", 0},
                                                             {"e", 0},
                                                             {"l", 0},
                                                             {"o", 0},
                                                             {"ll", -1},
                                                             {"\xE2\x96\x81h", -2},
                                                             {"\xE2\x96\x81he", -3},
                                                             {"\xE2\x96\x81hell", -4},
                                                             {"\xE2\x96\x81hello", -5},
                                                             {"lo", with_lo ? -0.5f : -9.0f}};
  for (const auto& [text, score] : pieces) {
    vocab.tokens.push_back(text);
    vocab.types.push_back(TokenType::NORMAL);
    vocab.scores.push_back(score);
  }
  vocab.unk = 0;
  vocab.bos = 1;
  vocab.eos = 2;
  return vocab;
}

constexpr int32_t kSpmByte0 = 3;

TEST(SentencePiece, MergesByScore) {
  // "▁hello": pairs ▁h (-2), ll (-1), lo (-0.5 or -9). With lo at -0.5: ▁ h e l [lo], then
  // [▁h] e l lo, then [▁he] l lo; "▁hel" and "llo" are no tokens: ▁he, l, lo.
  EXPECT_EQ(Tokenizer(spm_vocab(true)).encode("hello"), (std::vector<int32_t>{266, 262, 269}));
  // With lo at -9: [ll] first, then ▁h, ▁he, ▁hell, ▁hello.
  const Tokenizer tokenizer(spm_vocab(false));
  EXPECT_EQ(tokenizer.encode("hello"), (std::vector<int32_t>{268}));
  EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{268}), " hello");
  EXPECT_EQ(tokenizer.model_name(), "llama");
  EXPECT_TRUE(tokenizer.pre_tokenize("hello").empty());
}

TEST(SentencePiece, ByteFallbackSpacesAndSpecialText) {
  const Tokenizer tokenizer(spm_vocab(false));
  // é is no token: its two UTF-8 bytes become <0xC3> <0xA9>.
  EXPECT_EQ(tokenizer.encode("hé"),
            (std::vector<int32_t>{265, kSpmByte0 + 0xC3, kSpmByte0 + 0xA9}));
  EXPECT_EQ(tokenizer.token_piece(kSpmByte0 + 0xC3), "\xC3");
  EXPECT_EQ(tokenizer.token_piece(259), " ");
  // Every space is "▁"; control-token text is plain text.
  EXPECT_EQ(tokenizer.encode("h <s>"),
            (std::vector<int32_t>{265, 259, kSpmByte0 + '<', kSpmByte0 + 's', kSpmByte0 + '>'}));
  EXPECT_EQ(tokenizer.encode(""), std::vector<int32_t>{});
  EXPECT_EQ(tokenizer.token_piece(1), "<s>");

  TokenizerVocab no_prefix = spm_vocab(false);
  no_prefix.add_space_prefix = false;
  EXPECT_EQ(Tokenizer(no_prefix).encode("hello"), (std::vector<int32_t>{260, 261, 264, 263}));
}

TEST(SentencePiece, RoundTripsAnyBytesWithTheSpaceInFront) {
  const Tokenizer tokenizer(spm_vocab(true));
  std::mt19937 rng(77);
  for (int i = 0; i < 300; ++i) {
    const std::string text = i % 2 ? random_bytes(rng, 64) : random_mixed(rng, 24);
    const std::string expected = text.empty() ? "" : " " + text;
    ASSERT_EQ(tokenizer.decode(tokenizer.encode(text)), expected);
  }
}

TEST(SentencePiece, ThroughGguf) {
  TokenizerVocab vocab = spm_vocab(false);
  vocab.add_space_prefix = false;
  const std::vector<uint8_t> bytes = writer_for(vocab).to_bytes();
  const auto file = moe::gguf::GgufFile::parse(bytes, "spm.gguf");
  const Tokenizer tokenizer = Tokenizer::from_gguf(file);
  EXPECT_EQ(tokenizer.vocab().scores, vocab.scores);
  EXPECT_EQ(tokenizer.vocab().add_space_prefix, false);
  EXPECT_EQ(tokenizer.encode("hello"), (std::vector<int32_t>{260, 261, 264, 263}));
}

// ---- validation ----

std::string constructor_error(const TokenizerVocab& vocab) {
  try {
    Tokenizer tokenizer(vocab);
  } catch (const moe::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerValidation, InMemoryVocabularies) {
  const TokenizerVocab good = byte_vocab(kMerges);
  auto expect_error = [](const TokenizerVocab& vocab, const std::vector<std::string>& fragments) {
    const std::string message = constructor_error(vocab);
    ASSERT_FALSE(message.empty()) << "no error";
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << message;
  };
  TokenizerVocab v = good;
  v.model = "bert";
  expect_error(v, {"tokenizer.ggml.model", "'bert'", "gpt2"});
  v.model = "rwkv";
  expect_error(v, {"tokenizer.ggml.model", "'rwkv'", "gpt2", "llama"});
  v = good;
  v.pre = "klingon";
  expect_error(v, {"tokenizer.ggml.pre", "'klingon'", "gpt-2"});
  v = good;
  v.tokens.clear();
  v.types.clear();
  expect_error(v, {"tokenizer.ggml.tokens", "empty"});
  v = good;
  v.types.pop_back();
  expect_error(v, {"tokenizer.ggml.token_type", "269 entries for 270 tokens"});
  v = good;
  v.types[3] = static_cast<TokenType>(9);
  expect_error(v, {"tokenizer.ggml.token_type[3]", "9"});
  v = good;
  v.merges.push_back("x q\xC4\xA0");
  expect_error(v, {"tokenizer.ggml.merges[12]", "'q\xC4\xA0' is not a token"});
  v = good;
  v.merges.push_back("nospace");
  expect_error(v, {"tokenizer.ggml.merges[12]", "two tokens"});
  v = good;
  v.merges.push_back("a b");  // "ab" was never added as a token
  expect_error(v, {"tokenizer.ggml.merges[12]", "'ab'", "not in the vocabulary"});
  v = good;
  v.bos = 270;
  expect_error(v, {"tokenizer.ggml.bos_token_id", "270"});
  v = good;
  v.eos = -5;
  expect_error(v, {"tokenizer.ggml.eos_token_id"});
  v = good;
  v.scores = {1.0f};
  expect_error(v, {"tokenizer.ggml.scores"});
  EXPECT_EQ(constructor_error(good), "");
}

std::string gguf_error(const moe::gguf::GgufWriter& writer) {
  const std::vector<uint8_t> bytes = writer.to_bytes();
  try {
    const auto file = moe::gguf::GgufFile::parse(bytes, "vocab.gguf");
    Tokenizer::from_gguf(file);
  } catch (const moe::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerValidation, GgufMetadata) {
  const TokenizerVocab good = byte_vocab(kMerges);
  {
    const std::vector<uint8_t> bytes = writer_for(good).to_bytes();
    const auto file = moe::gguf::GgufFile::parse(bytes, "vocab.gguf");
    const Tokenizer tokenizer = Tokenizer::from_gguf(file);
    EXPECT_EQ(tokenizer.encode("hello world"), (std::vector<int32_t>{259, 264}));
    EXPECT_EQ(tokenizer.bos_id(), 268);
    EXPECT_EQ(tokenizer.token_type(269), TokenType::CONTROL);
    EXPECT_EQ(tokenizer.vocab().merges, good.merges);
  }
  auto expect_error = [](const moe::gguf::GgufWriter& writer,
                         const std::vector<std::string>& fragments) {
    const std::string message = gguf_error(writer);
    ASSERT_FALSE(message.empty()) << "no error";
    EXPECT_NE(message.find("vocab.gguf"), std::string::npos) << message;
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << message;
  };
  {
    auto writer = writer_for(good);
    writer.set_i32_array("tokenizer.ggml.tokens", {1, 2, 3});
    expect_error(writer, {"tokenizer.ggml.tokens", "array of strings"});
  }
  {
    auto writer = writer_for(good);
    writer.set_u32("tokenizer.ggml.merges", 7);
    expect_error(writer, {"tokenizer.ggml.merges", "array of strings"});
  }
  {
    auto writer = writer_for(good);
    writer.set_string_array("tokenizer.ggml.token_type", {"normal"});
    expect_error(writer, {"tokenizer.ggml.token_type", "integers"});
  }
  {
    auto writer = writer_for(good);
    writer.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1});
    expect_error(writer, {"tokenizer.ggml.token_type", "3 entries"});
  }
  {
    auto writer = writer_for(good);
    writer.set_i32_array("tokenizer.ggml.token_type", std::vector<int32_t>(270, 42));
    expect_error(writer, {"tokenizer.ggml.token_type[0]", "42"});
  }
  {
    auto writer = writer_for(good);
    writer.set_u32("tokenizer.ggml.eos_token_id", 100000);
    expect_error(writer, {"tokenizer.ggml.eos_token_id", "100000"});
  }
  {
    auto writer = writer_for(good);
    writer.set_string("tokenizer.ggml.bos_token_id", "1");
    expect_error(writer, {"tokenizer.ggml.bos_token_id", "integer"});
  }
  {
    auto writer = writer_for(good);
    writer.set_u32("tokenizer.ggml.model", 2);
    expect_error(writer, {"tokenizer.ggml.model", "string"});
  }
  {
    auto writer = writer_for(good);
    writer.set_string("tokenizer.ggml.pre", "klingon");
    expect_error(writer, {"tokenizer.ggml.pre", "klingon", "starcoder"});
  }
  {
    moe::gguf::GgufWriter writer;
    writer.set_string("tokenizer.ggml.model", "gpt2");
    expect_error(writer, {"tokenizer.ggml.tokens"});
  }
  {
    moe::gguf::GgufWriter writer;
    writer.set_string_array("tokenizer.ggml.tokens", {"a"});
    expect_error(writer, {"tokenizer.ggml.model"});
  }
}

TEST(TokenizerValidation, MissingPreMeansGpt2) {
  TokenizerVocab vocab = byte_vocab(kMerges, "");
  const std::vector<uint8_t> bytes = writer_for(vocab).to_bytes();
  const auto file = moe::gguf::GgufFile::parse(bytes, "vocab.gguf");
  EXPECT_EQ(file.find("tokenizer.ggml.pre"), nullptr);
  const Tokenizer tokenizer = Tokenizer::from_gguf(file);
  EXPECT_EQ(tokenizer.pre_name(), "");
  EXPECT_EQ(tokenizer.pre_tokenize("a   b's"), (std::vector<std::string>{"a", "  ", " b", "'s"}));
}

}  // namespace

// The one display rule for token text (app and CLI): no control character survives, since the
// CLI writes it to a terminal (issue 16).
TEST(TokenDisplay, EscapesEveryControlCharacter) {
  EXPECT_EQ(moe::display_token_text("a\x1b[31m"), "a<0x1B>[31m");
  EXPECT_EQ(moe::display_token_text("x\x07"), "x<0x07>");
  EXPECT_EQ(moe::display_token_text("\x7f"), "<0x7F>");
  EXPECT_EQ(moe::display_token_text("\xC2\x85|\xC2\xA0"), "<U+0085>|\xC2\xA0");
  EXPECT_EQ(moe::display_token_text("a\nb\t"), "a\\nb\\t");
  EXPECT_EQ(moe::display_token_texts({"\xC2", "\x9B"}), (std::vector<std::string>{"<U+009B>", "\xE2\x97\xA6"}));
}

// One look for a token everywhere (issue 16): a leading space is visible, and a byte token of an
// ASCII byte (SentencePiece's <0x0A>) never looks like the text token "\n".
TEST(TokenDisplay, LeadingSpacesAndByteTokensAreVisible) {
  EXPECT_EQ(moe::display_token_text(" the"), "\xC2\xB7the");
  EXPECT_EQ(moe::display_token_text("  "), "\xC2\xB7\xC2\xB7");
  EXPECT_EQ(moe::display_token_text("a b"), "a b");
  EXPECT_EQ(moe::display_token_texts({" \xD0", "\x9F"}),
            (std::vector<std::string>{"\xC2\xB7\xD0\x9F", "\xE2\x97\xA6"}));

  const Tokenizer tokenizer(spm_vocab(false));
  const std::vector<int32_t> ids = tokenizer.encode("h\n");
  ASSERT_EQ(ids.back(), kSpmByte0 + '\n');
  EXPECT_EQ(moe::display_token_texts(tokenizer, ids).back(), "<0x0A>");
  EXPECT_EQ(moe::display_token_texts({"\n"}).front(), "\\n");  // a text token of a newline
  // The bytes of a character split across byte tokens still read as the character.
  EXPECT_EQ(moe::display_token_texts(tokenizer, tokenizer.encode("h\xC3\xA9")),
            (std::vector<std::string>{"\xC2\xB7h", "\xC3\xA9", "\xE2\x97\xA6"}));
}

// The word view's rule (issue 16): BPE pieces join into the words a class reads.
TEST(TokenWords, PiecesJoinIntoWords) {
  // "Guten Morgen" as G ut en ␣M or gen: two words.
  EXPECT_EQ(moe::word_of_tokens({"G", "ut", "en", " M", "or", "gen"}),
            (std::vector<int>{0, 0, 0, 1, 1, 1}));
  // The vocabularies' own space marks start a word too.
  EXPECT_EQ(moe::word_of_tokens({"\xC4\xA0the", "re", "\xE2\x96\x81is"}), (std::vector<int>{0, 0, 1}));
  // Punctuation is a word of its own, and so is what follows it.
  EXPECT_EQ(moe::word_of_tokens({"Solve", " 15", " \xC3\x97", " 8", ",", "then", "\n", "x"}),
            (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(moe::word_of_tokens({"def", " fib", "on", "acci", "(", "n", "):"}),
            (std::vector<int>{0, 1, 1, 1, 2, 3, 4}));
  // Pieces of a character split across byte tokens stay in one word.
  EXPECT_EQ(moe::word_of_tokens({" \xD0", "\x9F", "\xD1\x80\xD0\xB8"}), (std::vector<int>{0, 0, 0}));
  EXPECT_TRUE(moe::word_of_tokens({}).empty());
}

// Tokens per word, for judging a vocabulary (issue 21): words are whitespace-separated runs.
TEST(TokenWords, TokensPerWordCountsEveryTokenThatGivesAWordBytes) {
  // "Guten Morgen": 3 + 3; the space inside " M" belongs to no word.
  EXPECT_EQ(moe::tokens_per_word({"G", "ut", "en", " M", "or", "gen"}), (std::vector<int>{3, 3}));
  // One token spanning two words ("a b") counts for both; trailing space ends the word.
  EXPECT_EQ(moe::tokens_per_word({"the", " cat", " sat.", "\n\n", "a b"}),
            (std::vector<int>{1, 1, 1, 1, 1}));
  // "sat" + "." is one word of two tokens; a newline token between words counts for neither.
  EXPECT_EQ(moe::tokens_per_word({"sat", ".", "\n", "Ok"}), (std::vector<int>{2, 1}));
  // A multi-byte character split across tokens is still one word.
  EXPECT_EQ(moe::tokens_per_word({" \xD0", "\x9F", "\xD1\x80\xD0\xB8"}), (std::vector<int>{3}));
  EXPECT_TRUE(moe::tokens_per_word({" ", "\n"}).empty());
}
