#pragma once
// Strict UTF-8 (RFC 3629): the same notion of validity as PCRE2's UTF mode.
#include <cstddef>
#include <string>
#include <string_view>

#include "moe/utf8.hpp"

namespace moe::tokenizer_detail {

using moe::utf8_sequence_length;

// Decodes the well-formed sequence at text[pos] (caller checked it with utf8_sequence_length).
char32_t utf8_decode(std::string_view text, size_t pos, size_t length);

void utf8_append(std::string& out, char32_t code_point);

}  // namespace moe::tokenizer_detail
