#pragma once
// Bytes written as hex digits, two per byte (the fixtures of tests/data).
#include <cstdint>
#include <string>
#include <vector>

namespace moe::testing {

inline std::vector<uint8_t> hex_bytes(const std::string& hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

}  // namespace moe::testing
