// The CPU backend's own F16/BF16 row conversions (vectorized) against the exact per-value
// conversions of ggml_types, for every one of the 65536 bit patterns.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "../core/backend/cpu_kernels.hpp"  // private to the backend; tested directly here
#include "moe/ggml_types.hpp"

namespace {

std::vector<uint8_t> all_bit_patterns() {
  std::vector<uint8_t> bytes(65536 * 2);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const auto half = static_cast<uint16_t>(bits);
    std::memcpy(bytes.data() + 2 * bits, &half, 2);
  }
  return bytes;
}

void expect_same(float actual, float expected, uint32_t bits) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << "bits " << bits;  // hardware may quiet a signaling NaN
  } else {
    EXPECT_EQ(std::bit_cast<uint32_t>(actual), std::bit_cast<uint32_t>(expected))
        << "bits " << bits;
  }
}

TEST(CpuConvert, F16RowsMatchExactConversion) {
  const std::vector<uint8_t> bytes = all_bit_patterns();
  std::vector<float> converted(65536);
  // An odd count exercises the vector loop and the scalar tail.
  moe::cpu::f16_row_to_f32(bytes.data(), converted.data(), 65535);
  moe::cpu::f16_row_to_f32(bytes.data() + 2 * 65535, converted.data() + 65535, 1);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    expect_same(converted[bits], moe::f16_to_f32(static_cast<uint16_t>(bits)), bits);
  }
}

TEST(CpuConvert, PortableF16RowsMatchExactConversion) {
  const std::vector<uint8_t> bytes = all_bit_patterns();
  std::vector<float> converted(65536);
  moe::cpu::f16_row_to_f32_portable(bytes.data(), converted.data(), 65536);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    expect_same(converted[bits], moe::f16_to_f32(static_cast<uint16_t>(bits)), bits);
  }
}

TEST(CpuConvert, Bf16RowsMatchExactConversion) {
  const std::vector<uint8_t> bytes = all_bit_patterns();
  std::vector<float> converted(65536);
  moe::cpu::bf16_row_to_f32(bytes.data(), converted.data(), 65536);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    expect_same(converted[bits], moe::bf16_to_f32(static_cast<uint16_t>(bits)), bits);
  }
}

}  // namespace
