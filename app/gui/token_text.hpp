#pragma once
// Token text for display: what a token's bytes look like in the token strip, in figure labels
// and tooltips.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "moe/utf8.hpp"

namespace moescope::gui {

using moe::utf8_sequence_length;  // shared with the tokenizer (moe/utf8.hpp)

// Valid UTF-8 stays as it is; other bytes become <0xNN> (a character split across tokens shows
// as its bytes); a newline becomes "\n" and a tab "\t" so a token stays on one line.
std::string display_token_text(std::string_view bytes);

// Display text for a sequence of tokens (their bytes, in order). Like display_token_text, except
// that a character split across byte tokens (a byte-level vocabulary meeting Cyrillic or CJK)
// is shown whole on the token with its first byte, and as "◦" on tokens that only continue it.
// Bytes that form no valid character anywhere still show as <0xNN>.
std::vector<std::string> display_token_texts(const std::vector<std::string>& pieces);

// At most `max_chars` characters (UTF-8 aware), with "…" when cut.
std::string shorten_utf8(std::string_view text, size_t max_chars);

}  // namespace moescope::gui
