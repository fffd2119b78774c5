// Regex pre-tokenizers, chosen by tokenizer.ggml.pre. The regex lists are the published ones
// (the model's tokenizer.json, as adopted by llama.cpp for each pre-tokenizer name); llama.cpp's
// way of applying a list is kept: each regex splits every piece left by the previous one into
// its matches and the unmatched gaps between them.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "moe/error.hpp"
#include "moe/tokenizer.hpp"
#include "utf8.hpp"

namespace moe {

namespace {

// White_Space code points (Unicode PropList), spelled out so that \s means the same thing
// whatever PCRE2 version or Unicode tables are installed.
constexpr std::string_view kWhitespace =
    R"(\t-\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// Rewrites \s and \S into explicit classes (inside a class, \s becomes the class body).
std::string expand_whitespace(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        out += in_class ? std::string(kWhitespace) : "[" + std::string(kWhitespace) + "]";
      } else if (next == 'S' && !in_class) {
        out += "[^" + std::string(kWhitespace) + "]";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];  // literal ]
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Han U+4E00..U+9FA5, the rest of U+0800..U+4E00, Hangul U+AC00..U+D7FF (the published class).
// llama.cpp hands such regexes text in which every non-ASCII whitespace reads as \v, so
// whitespace never matches the class: U+1680, U+2000..U+200A, U+2028/9, U+202F, U+205F and
// U+3000 are left out here.
constexpr const char* kCjk =
    R"([\x{4E00}-\x{9FA5}\x{800}-\x{167F}\x{1681}-\x{1FFF}\x{200B}-\x{2027}\x{202A}-\x{202E}\x{2030}-\x{205E}\x{2060}-\x{2FFF}\x{3001}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
// gpt-4o / o200k (gpt-oss, Llama 4): a word is optional "upper" letters then "lower" ones, or
// "upper" then optional "lower", the contraction glued to its end. As llama.cpp writes it, an
// "upper" letter is a letter outside a-z and a "lower" one a letter outside A-Z (so a letter of
// another script is both), and punctuation runs keep [\r\n/].
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?(?:(?=\p{L})[^a-z])*(?:(?=\p{L})[^A-Z])+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?(?:(?=\p{L})[^a-z])+(?:(?=\p{L})[^A-Z])*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Ling / bailingmoe2: contractions after the apostrophe only, single digits, one newline at the
// end of a run (the published possessive quantifiers read greedy, as llama.cpp runs them).
constexpr const char* kBailing =
    R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kBloom =
    R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)";

struct PreTokenizerSpec {
  std::vector<std::string_view> names;
  std::vector<std::string_view> regexes;
  bool ignore_merges = false;
};

const std::vector<PreTokenizerSpec>& specs() {
  static const std::vector<PreTokenizerSpec> table = {
      {{"gpt-2", "default", "", "olmo", "mpt", "phi-2", "roberta-bpe", "jais", "gigachat"},
       {kGpt2}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"},
       {R"(\p{N})", kGpt2}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3"}, {kLlama3}, true},
      {{"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"}, {kLlama3}},
      {{"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", "hunyuan", "grok-2"}, {kQwen2}},
      {{"gpt-4o", "llama4"}, {kGpt4o}},
      {{"bailingmoe", "bailingmoe2", "llada-moe"}, {kBailing}},
      {{"deepseek-coder"}, {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}},
      {{"deepseek-llm"},
       {R"([\r\n])",
        R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)",
        // U+3000 (a space) is left out of the published class, see kCjk
        R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3001}-\x{3002}]+)",
        // "\s+$" with the same matches, made linear on long blank runs: a match can only start
        // where no whitespace precedes it, and the run is taken possessively.
        R"((?<!\s)\s++$)", kCjk, R"(\p{N}+)"}},
      {{"deepseek-v3"},
       {R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
        R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
      {{"bloom", "poro-chat", "gpt3-finnish"}, {kBloom}},
      {{"viking"}, {kBloom, R"(\p{N})"}},
  };
  return table;
}

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

struct Piece {
  size_t begin = 0;
  size_t end = 0;
  bool valid_utf8 = true;
};

}  // namespace

struct PreTokenizer::Impl {
  std::string name;
  bool ignore_merges = false;
  std::vector<std::unique_ptr<pcre2_code, CodeDeleter>> regexes;
  uint32_t max_capture_pairs = 1;

  // Splits text[piece] by one regex, appending matches and gaps to `out`.
  void split_piece(const pcre2_code* regex, pcre2_match_data* match, std::string_view text,
                   Piece piece, std::vector<Piece>& out) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + piece.begin);
    const size_t length = piece.end - piece.begin;
    size_t offset = 0;
    size_t gap_begin = 0;
    while (offset < length) {
      const uint32_t options = PCRE2_NO_UTF_CHECK | PCRE2_NOTEMPTY;
      int rc = pcre2_match(regex, subject, length, offset, options, match, nullptr);
      if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  // deep backtracking: the interpreter uses the heap
        rc = pcre2_match(regex, subject, length, offset, options | PCRE2_NO_JIT, match, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0)
        throw Error("pre-tokenizer '" + name + "': regex match failed at byte " +
                    std::to_string(piece.begin + offset) + ": " + pcre2_message(rc));
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
      const size_t match_begin = ovector[0];
      const size_t match_end = ovector[1];
      if (match_begin > gap_begin)
        out.push_back({piece.begin + gap_begin, piece.begin + match_begin, true});
      out.push_back({piece.begin + match_begin, piece.begin + match_end, true});
      offset = gap_begin = match_end;
    }
    if (gap_begin < length) out.push_back({piece.begin + gap_begin, piece.end, true});
  }
};

PreTokenizer PreTokenizer::create(std::string_view name) {
  const PreTokenizerSpec* spec = nullptr;
  for (const PreTokenizerSpec& candidate : specs())
    if (std::find(candidate.names.begin(), candidate.names.end(), name) != candidate.names.end())
      spec = &candidate;
  if (spec == nullptr) {
    std::string message = "unknown pre-tokenizer '" + std::string(name) + "'; supported:";
    for (const std::string& supported : supported_names()) message += " " + supported;
    throw Error(message);
  }

  auto impl = std::make_shared<Impl>();
  impl->name = std::string(name);
  impl->ignore_merges = spec->ignore_merges;
  for (std::string_view source : spec->regexes) {
    const std::string pattern = expand_whitespace(source);
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error_code,
                                     &error_offset, nullptr);
    if (code == nullptr)
      throw Error("pre-tokenizer '" + impl->name + "': cannot compile regex at offset " +
                  std::to_string(error_offset) + ": " + pcre2_message(error_code));
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional: without JIT the interpreter runs
    uint32_t capture_count = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &capture_count);
    impl->max_capture_pairs = std::max(impl->max_capture_pairs, capture_count + 1);
    impl->regexes.emplace_back(code);
  }
  PreTokenizer result;
  result.impl_ = std::move(impl);
  return result;
}

std::vector<std::string> PreTokenizer::supported_names() {
  std::vector<std::string> names;
  for (const PreTokenizerSpec& spec : specs())
    for (std::string_view name : spec.names)
      if (!name.empty()) names.emplace_back(name);
  return names;
}

const std::string& PreTokenizer::name() const { return impl_->name; }
bool PreTokenizer::ignore_merges() const { return impl_->ignore_merges; }

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  // Step 0: valid UTF-8 runs and maximal runs of invalid bytes.
  std::vector<Piece> pieces;
  for (size_t pos = 0; pos < text.size();) {
    const bool valid = tokenizer_detail::utf8_sequence_length(text, pos) != 0;
    const size_t begin = pos;
    while (pos < text.size()) {
      const size_t length = tokenizer_detail::utf8_sequence_length(text, pos);
      if ((length != 0) != valid) break;
      pos += valid ? length : 1;
    }
    pieces.push_back({begin, pos, valid});
  }

  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
      pcre2_match_data_create(impl_->max_capture_pairs, nullptr));
  if (!match) throw Error("pre-tokenizer '" + impl_->name + "': out of memory");
  std::vector<Piece> next;
  for (const auto& regex : impl_->regexes) {
    next.clear();
    next.reserve(pieces.size() * 2);
    for (const Piece& piece : pieces) {
      if (piece.valid_utf8)
        impl_->split_piece(regex.get(), match.get(), text, piece, next);
      else
        next.push_back(piece);
    }
    pieces.swap(next);
  }

  std::vector<std::string_view> views;
  views.reserve(pieces.size());
  for (const Piece& piece : pieces)
    views.push_back(text.substr(piece.begin, piece.end - piece.begin));
  return views;
}

}  // namespace moe
