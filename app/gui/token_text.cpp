#include "token_text.hpp"

#include <cstdint>
#include <cstdio>

namespace moescope::gui {

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
