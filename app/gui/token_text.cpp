#include "token_text.hpp"

#include <cstdint>
#include <cstdio>

namespace moescope::gui {

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
    } else if (length == 1 && static_cast<unsigned char>(bytes[i]) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(bytes[i]));
      out += hex;
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
        text += start == p ? all.substr(start, length) : std::string("\xE2\x97\xA6");
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

std::string shorten_utf8(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size();) {
    if (chars == max_chars) return std::string(text.substr(0, i)) + "\xE2\x80\xA6";
    const size_t length = utf8_sequence_length(text, i);
    i += length == 0 ? 1 : length;
    ++chars;
  }
  return std::string(text);
}

}  // namespace moescope::gui
