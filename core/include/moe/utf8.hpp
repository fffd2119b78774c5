#pragma once
// Strict UTF-8 (RFC 3629, the same notion of validity as PCRE2's UTF mode), for showing token
// bytes as text: a byte-level token can hold part of a character.
#include <cstddef>
#include <string>
#include <string_view>

namespace moe {

// Length (1..4) of the well-formed UTF-8 sequence starting at text[pos], or 0 when the bytes
// there are not one (continuation byte, truncated, overlong, surrogate, above U+10FFFF, F5..FF).
size_t utf8_sequence_length(std::string_view text, size_t pos);

// `bytes` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, or by
// "<0xNN>" when `hex_bytes` is set (more telling where a character is split across tokens).
std::string replace_invalid_utf8(std::string_view bytes, bool hex_bytes = false);

}  // namespace moe
