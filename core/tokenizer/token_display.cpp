#include "moe/token_display.hpp"

#include <algorithm>
#include <cstdio>

#include "moe/tokenizer.hpp"
#include "moe/utf8.hpp"

namespace moe {

namespace {

// A token's leading spaces as "·": " the" and "the" are different tokens and must look it.
std::string with_visible_leading_spaces(std::string text) {
  size_t spaces = 0;
  while (spaces < text.size() && text[spaces] == ' ') ++spaces;
  std::string marks;
  for (size_t i = 0; i < spaces; ++i) marks += kVisibleSpace;
  return marks + text.substr(spaces);
}

// display_token_text without the leading-space mark (used on parts of a token too).
std::string escaped_text(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    const size_t length = utf8_sequence_length(bytes, i);
    if (length == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(bytes[i]));
      out += hex;
      ++i;
      continue;
    }
    if (length == 1 && bytes[i] == '\n') {
      out += "\\n";
    } else if (length == 1 && bytes[i] == '\t') {
      out += "\\t";
    } else if (length == 1 && (static_cast<unsigned char>(bytes[i]) < 0x20 || bytes[i] == 0x7F)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(bytes[i]));
      out += hex;
    } else if (length == 2 && static_cast<unsigned char>(bytes[i]) == 0xC2 &&
               static_cast<unsigned char>(bytes[i + 1]) < 0xA0) {
      // C1 controls (U+0080..U+009F): some terminals act on them like ESC sequences.
      char code[12];
      std::snprintf(code, sizeof code, "<U+%04X>", static_cast<unsigned char>(bytes[i + 1]));
      out += code;
    } else {
      out.append(bytes.substr(i, length));
    }
    i += length;
  }
  return out;
}

}  // namespace

std::string display_token_text(std::string_view bytes) {
  return with_visible_leading_spaces(escaped_text(bytes));
}

std::vector<std::string> display_token_texts(const std::vector<std::string>& pieces) {
  std::string all;
  std::vector<size_t> starts;
  for (const std::string& piece : pieces) {
    starts.push_back(all.size());
    all += piece;
  }
  const auto is_continuation = [&](size_t i) {
    return (static_cast<unsigned char>(all[i]) & 0xC0) == 0x80;
  };
  std::vector<std::string> texts;
  texts.reserve(pieces.size());
  for (size_t t = 0; t < pieces.size(); ++t) {
    const size_t begin = starts[t], end = begin + pieces[t].size();
    std::string text;
    std::string valid_run;  // whole characters inside this token, shown as display_token_text does
    for (size_t p = begin; p < end;) {
      // The character containing byte p may start up to 3 bytes earlier, in an earlier token.
      size_t start = p;
      while (start > 0 && p - start < 3 && is_continuation(start)) --start;
      const size_t length = utf8_sequence_length(all, start);
      if (length > 0 && start + length > p && start >= begin && start + length <= end) {
        valid_run.append(all, start, length);  // a whole character inside this token
        p = start + length;
        continue;
      }
      text += escaped_text(valid_run);
      valid_run.clear();
      if (length > 0 && start + length > p) {
        // Split across tokens: the whole character where it starts, a mark where it continues.
        text += start == p ? escaped_text(all.substr(start, length))
                            : std::string("\xE2\x97\xA6");
        p = std::min(start + length, end);
      } else {
        text += escaped_text(all.substr(p, 1));  // <0xNN>
        ++p;
      }
    }
    text += escaped_text(valid_run);
    texts.push_back(with_visible_leading_spaces(std::move(text)));
  }
  return texts;
}

std::vector<std::string> display_token_texts(const Tokenizer& tokenizer,
                                             const std::vector<int32_t>& ids) {
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (int32_t id : ids) pieces.push_back(tokenizer.token_piece(id));
  std::vector<std::string> texts = display_token_texts(pieces);
  for (size_t i = 0; i < ids.size(); ++i) {
    // A byte token of one ASCII byte reads as the vocabulary spells it (<0x0A>), so it differs
    // from the text token of the same byte ("\n"). Bytes of a split character stay merged.
    const std::string& piece = pieces[i];
    if (tokenizer.token_type(ids[i]) == TokenType::BYTE && piece.size() == 1 &&
        static_cast<unsigned char>(piece[0]) < 0x80) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(piece[0]));
      texts[i] = hex;
    }
  }
  return texts;
}

std::string terminal_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7F) {
      static const char* const kHex = "0123456789ABCDEF";
      out += "<0x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      out += '>';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace moe
