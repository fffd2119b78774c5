#pragma once
// Token text for display: what a token's bytes look like in the token strip, in figure labels
// and tooltips.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "moe/token_display.hpp"
#include "moe/utf8.hpp"

namespace moescope::gui {

using moe::utf8_sequence_length;  // shared with the tokenizer (moe/utf8.hpp)

// The one display rule for token text, shared with the CLI (moe/token_display.hpp).
using moe::display_token_text;
using moe::display_token_texts;

// At most `max_chars` characters (UTF-8 aware), with "…" when cut.
std::string shorten_utf8(std::string_view text, size_t max_chars);

}  // namespace moescope::gui
