#pragma once
// Facts of the GGUF layout shared by the reader and the writer (internal to core/gguf).
#include <cstdint>
#include <string>
#include <system_error>

#include "moe/gguf.hpp"

namespace moe::gguf::format {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr const char* kAlignmentKey = "general.alignment";

// Bytes of a scalar value of `type` in the file; 0 for STRING and ARRAY.
inline unsigned scalar_size(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
      return 8;
    case ValueType::STRING:
    case ValueType::ARRAY:
      return 0;
  }
  return 0;
}

inline bool is_power_of_two(uint64_t value) { return value != 0 && (value & (value - 1)) == 0; }

// `value` rounded up to a multiple of `alignment` (a power of two; no overflow for file sizes).
inline uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

inline std::string errno_text(int error) { return std::generic_category().message(error); }

}  // namespace moe::gguf::format
