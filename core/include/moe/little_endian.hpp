#pragma once
// Little-endian scalars at any byte address: the fields of GGUF quantization blocks
// (moe/gguf_blocks.hpp) and of F16 / BF16 rows. One definition for the conversion code, the
// scalar kernels and the vectorized ones.
//
// Always inlined: the vectorized kernels are compiled once per SIMD level and must not leave an
// out-of-line copy the linker could share with code for other CPUs (tests/check_simd_symbols.sh).
#include <bit>
#include <cstdint>
#include <cstring>

#include "moe/ggml_types.hpp"

namespace moe {

[[gnu::always_inline]] inline uint16_t load_u16(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint16_t value;
    std::memcpy(&value, p, sizeof value);
    return value;
  } else {
    return static_cast<uint16_t>(p[0] | p[1] << 8);
  }
}

[[gnu::always_inline]] inline uint32_t load_u32(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint32_t value;
    std::memcpy(&value, p, sizeof value);
    return value;
  } else {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  }
}

[[gnu::always_inline]] inline float load_f32(const uint8_t* p) {
  return std::bit_cast<float>(load_u32(p));
}

// An IEEE half, widened exactly (the vectorized kernels have an F16C version of their own).
[[gnu::always_inline]] inline float load_f16(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

[[gnu::always_inline]] inline void store_u16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value);
  p[1] = static_cast<uint8_t>(value >> 8);
}

}  // namespace moe
