#include "moe/base64.hpp"

#include <array>

#include "moe/error.hpp"

namespace moe {

namespace {

constexpr const char* kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of each byte in the alphabet, -1 for the others.
std::array<int8_t, 256> decode_table() {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::vector<uint8_t> decode_base64(std::string_view text, const std::string& where) {
  static const std::array<int8_t, 256> table = decode_table();
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  uint32_t quad = 0;
  int filled = 0;   // sextets in `quad`
  int padding = 0;  // '=' seen
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    if (c == '=') {
      ++padding;
      if (filled < 2 || filled + padding > 4)
        throw Error(where + ": base64 has a misplaced '=' at character " + std::to_string(i));
      continue;
    }
    const int8_t value = table[static_cast<uint8_t>(c)];
    if (value < 0 || padding > 0) {
      throw Error(where + ": not base64 (character " + std::to_string(i) + " is '" +
                  (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f
                       ? std::string(1, c)
                       : "\\x" + std::to_string(static_cast<unsigned char>(c))) +
                  "')");
    }
    quad = quad << 6 | static_cast<uint32_t>(value);
    if (++filled == 4) {
      out.push_back(static_cast<uint8_t>(quad >> 16));
      out.push_back(static_cast<uint8_t>(quad >> 8));
      out.push_back(static_cast<uint8_t>(quad));
      quad = 0;
      filled = 0;
    }
  }
  if (padding > 0) {
    if (filled + padding != 4) throw Error(where + ": base64 is truncated");
    quad <<= 6 * padding;
    out.push_back(static_cast<uint8_t>(quad >> 16));
    if (filled == 3) out.push_back(static_cast<uint8_t>(quad >> 8));
  } else if (filled != 0) {
    throw Error(where + ": base64 is truncated (" + std::to_string(filled) +
                " characters after the last whole group of four)");
  }
  return out;
}

std::string encode_base64(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    const size_t n = size - i < 3 ? size - i : 3;
    uint32_t triple = static_cast<uint32_t>(data[i]) << 16;
    if (n > 1) triple |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (n > 2) triple |= data[i + 2];
    out += kAlphabet[triple >> 18 & 63];
    out += kAlphabet[triple >> 12 & 63];
    out += n > 1 ? kAlphabet[triple >> 6 & 63] : '=';
    out += n > 2 ? kAlphabet[triple & 63] : '=';
  }
  return out;
}

}  // namespace moe
