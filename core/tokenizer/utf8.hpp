#pragma once
// Strict UTF-8 (RFC 3629): the same notion of validity as PCRE2's UTF mode.
#include <cstddef>
#include <string>
#include <string_view>

namespace moe::tokenizer_detail {

// Length (1..4) of the well-formed UTF-8 sequence starting at text[pos], or 0 when the bytes
// there are not one (continuation byte, truncated, overlong, surrogate, above U+10FFFF, F5..FF).
size_t utf8_sequence_length(std::string_view text, size_t pos);

// Decodes the well-formed sequence at text[pos] (caller checked it with utf8_sequence_length).
char32_t utf8_decode(std::string_view text, size_t pos, size_t length);

void utf8_append(std::string& out, char32_t code_point);

}  // namespace moe::tokenizer_detail
