#include "byte_unicode.hpp"

#include <array>

#include "utf8.hpp"

namespace moe::tokenizer_detail {

namespace {

bool stands_for_itself(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE);
}

struct Alphabet {
  std::array<char32_t, 256> code_point{};
  std::array<std::string, 256> utf8;
  std::array<int16_t, 512> byte_of{};  // code point -> byte, -1 when outside the alphabet

  Alphabet() {
    byte_of.fill(-1);
    char32_t next_extra = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const char32_t cp = stands_for_itself(byte) ? static_cast<char32_t>(byte) : next_extra++;
      code_point[byte] = cp;
      utf8_append(utf8[byte], cp);
      byte_of[cp] = static_cast<int16_t>(byte);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

}  // namespace

const std::string& byte_to_symbol(uint8_t byte) { return alphabet().utf8[byte]; }

std::string bytes_to_symbols(std::string_view bytes) {
  const Alphabet& a = alphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += a.utf8[static_cast<uint8_t>(c)];
  return out;
}

std::optional<std::string> symbols_to_bytes(std::string_view symbols) {
  const Alphabet& a = alphabet();
  std::string out;
  out.reserve(symbols.size());
  for (size_t pos = 0; pos < symbols.size();) {
    const size_t length = utf8_sequence_length(symbols, pos);
    if (length == 0) return std::nullopt;
    const char32_t cp = utf8_decode(symbols, pos, length);
    if (cp >= a.byte_of.size() || a.byte_of[cp] < 0) return std::nullopt;
    out += static_cast<char>(a.byte_of[cp]);
    pos += length;
  }
  return out;
}

}  // namespace moe::tokenizer_detail
