#include "moe/token_display.hpp"

#include <algorithm>
#include <cstdio>

#include "moe/utf8.hpp"

namespace moe {

std::string display_token_text(std::string_view bytes) {
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
      text += display_token_text(valid_run);
      valid_run.clear();
      if (length > 0 && start + length > p) {
        // Split across tokens: the whole character where it starts, a mark where it continues.
        text += start == p ? display_token_text(all.substr(start, length))
                            : std::string("\xE2\x97\xA6");
        p = std::min(start + length, end);
      } else {
        text += display_token_text(all.substr(p, 1));  // <0xNN>
        ++p;
      }
    }
    text += display_token_text(valid_run);
    texts.push_back(std::move(text));
  }
  return texts;
}

}  // namespace moe
