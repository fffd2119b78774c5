#pragma once
// Base64 (RFC 4648, standard alphabet, '=' padding): how SGLang sends expert ids.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

// Whitespace is skipped; any other character outside the alphabet, a misplaced '=', or a length
// that is not whole quads throws moe::Error naming `where`.
std::vector<uint8_t> decode_base64(std::string_view text, const std::string& where);
std::string encode_base64(const uint8_t* data, size_t size);

}  // namespace moe
