#pragma once
// The GPT-2 byte-level alphabet: every byte value stands for one printable code point, so that
// byte strings can be stored as text tokens. Bytes that are printable Latin-1 ('!'..'~',
// U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the other 68 bytes, in increasing order,
// stand for U+0100, U+0101, ... (so the space 0x20 is 'Ġ' U+0120).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moe::tokenizer_detail {

// UTF-8 of the code point standing for `byte`.
const std::string& byte_to_symbol(uint8_t byte);
// Every byte of `bytes` replaced by its symbol.
std::string bytes_to_symbols(std::string_view bytes);
// The inverse: nullopt when `symbols` is not valid UTF-8 or holds a code point outside the
// alphabet.
std::optional<std::string> symbols_to_bytes(std::string_view symbols);

}  // namespace moe::tokenizer_detail
