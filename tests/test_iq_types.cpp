// The IQ and TQ types' decoding (core/gguf/iq_codes.cpp, quants.cpp):
// - ggml's own output for one random block of each type (tests/data/ggml_iq_dequant.txt) is
//   reproduced bit for bit;
// - single elements of hand-built blocks have the values the format definitions give;
// - the block layouts and names are ggml's.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "moe/ggml_types.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"
#include "support/hex_bytes.hpp"

namespace {

using moe::GgmlType;
using moe::testing::hex_bytes;

struct GgmlBlock {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> value_bits;
};

// type name -> block and ggml's values, from the fixture.
std::map<std::string, GgmlBlock> read_fixture() {
  std::ifstream in(std::string(MOESCOPE_SOURCE_DIR) + "/tests/data/ggml_iq_dequant.txt");
  std::map<std::string, GgmlBlock> blocks;
  std::string line, name;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (std::isupper(static_cast<unsigned char>(line[0]))) {
      name = line;
      std::getline(in, line);
      blocks[name].bytes = hex_bytes(line);
      continue;
    }
    for (size_t at = 0; at + 8 <= line.size(); at += 9)
      blocks[name].value_bits.push_back(std::stoul(line.substr(at, 8), nullptr, 16));
  }
  return blocks;
}

const GgmlType kNewTypes[] = {GgmlType::IQ4_NL,  GgmlType::IQ4_XS, GgmlType::IQ3_XXS,
                              GgmlType::IQ3_S,   GgmlType::IQ2_XXS, GgmlType::IQ2_XS,
                              GgmlType::IQ2_S,   GgmlType::IQ1_S,  GgmlType::IQ1_M,
                              GgmlType::TQ1_0,   GgmlType::TQ2_0,  GgmlType::MXFP4};

TEST(IqTypes, DecodeAsGgmlBitForBit) {
  const auto fixture = read_fixture();
  ASSERT_EQ(fixture.size(), std::size(kNewTypes)) << "tests/data/ggml_iq_dequant.txt";
  for (GgmlType type : kNewTypes) {
    const std::string name = moe::type_name(type);
    ASSERT_TRUE(fixture.count(name)) << name;
    const GgmlBlock& block = fixture.at(name);
    const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
    ASSERT_EQ(block.bytes.size(), layout.block_bytes) << name;
    ASSERT_EQ(block.value_bits.size(), layout.block_size) << name;
    EXPECT_TRUE(moe::is_supported_for_compute(type)) << name;
    std::vector<float> values(layout.block_size);
    moe::dequantize_row(type, block.bytes.data(), values.data(), layout.block_size);
    int nonzero = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(std::bit_cast<uint32_t>(values[i]), block.value_bits[i])
          << name << " element " << i << ": " << values[i] << " vs ggml "
          << std::bit_cast<float>(block.value_bits[i]);
      nonzero += values[i] != 0.0f;
    }
    EXPECT_GT(nonzero, static_cast<int>(values.size()) / 2) << name << ": a trivial block";
  }
}

// One block of `type` filled with `fill`, decoded.
template <typename Block>
std::vector<float> decode(GgmlType type, const Block& block) {
  std::vector<float> values(moe::type_layout(static_cast<uint32_t>(type))->block_size);
  moe::dequantize_row(type, &block, values.data(), static_cast<int64_t>(values.size()));
  return values;
}

TEST(IqTypes, Iq4ElementsFollowTheFormat) {
  moe::BlockIq4Nl nl{};
  moe::store_u16(nl.d, moe::f32_to_f16(0.5f));
  nl.qs[3] = 0x4f;  // element 3: index 15, element 19: index 4
  auto values = decode(GgmlType::IQ4_NL, nl);
  EXPECT_EQ(values[3], 0.5f * 113);
  EXPECT_EQ(values[19], 0.5f * -49);
  EXPECT_EQ(values[0], 0.5f * -127);  // index 0

  moe::BlockIq4Xs xs{};
  moe::store_u16(xs.d, moe::f32_to_f16(0.25f));
  xs.scales_l[2] = 0x30;                // group 5: low 4 bits 3
  moe::store_u16(xs.scales_h, 2 << 10);  // group 5: high 2 bits 2 -> 35 - 32 = 3
  xs.qs[16 * 5 + 2] = 0x9e;             // element 162: index 14, element 178: index 9
  values = decode(GgmlType::IQ4_XS, xs);
  EXPECT_EQ(values[162], 0.25f * 3 * 89);
  EXPECT_EQ(values[178], 0.25f * 3 * 13);
  EXPECT_EQ(values[0], 0.25f * -32 * -127);  // group 0: scale 0 - 32, index 0
}

TEST(IqTypes, TernaryElementsFollowTheFormat) {
  moe::BlockTq2_0 tq2{};
  moe::store_u16(tq2.d, moe::f32_to_f16(2.0f));
  tq2.qs[32 + 5] = 0b00'10'00'00;  // element 128 + 64 + 5: bits 4-5 = 2 -> +1
  auto values = decode(GgmlType::TQ2_0, tq2);
  EXPECT_EQ(values[128 + 64 + 5], 2.0f);
  EXPECT_EQ(values[128 + 5], -2.0f);  // code 0 -> -1

  // Digits (2, 0, 1, 2, 1) as a base-3 fraction of 256: ceil(178 * 256 / 243) = 188.
  moe::BlockTq1_0 tq1{};
  moe::store_u16(tq1.d, moe::f32_to_f16(3.0f));
  tq1.qs[7] = 188;
  tq1.qs[32 + 3] = 188;
  tq1.qh[2] = 188;
  values = decode(GgmlType::TQ1_0, tq1);
  const float expected[5] = {3.0f, -3.0f, 0.0f, 3.0f, 0.0f};
  for (int n = 0; n < 5; ++n) {
    EXPECT_EQ(values[32 * n + 7], expected[n]) << "digit " << n << " of qs[7]";
    EXPECT_EQ(values[160 + 16 * n + 3], expected[n]) << "digit " << n << " of qs[35]";
    if (n < 4) {
      EXPECT_EQ(values[240 + 4 * n + 2], expected[n]) << "digit " << n << " of qh[2]";
    }
  }
  EXPECT_EQ(values[0], -3.0f);  // byte 0: every digit 0
}

TEST(IqTypes, GridElementsFollowTheFormat) {
  // IQ2_XXS group 0: grid entry 0 (all 8s); signs 0000001 plus the parity bit: elements 0 and
  // 7 negative; scale 3: d * 7 / 8.
  moe::BlockIq2Xxs xxs{};
  moe::store_u16(xxs.d, moe::f32_to_f16(1.0f));
  const uint32_t signs_and_scale = 1u | 3u << 28;
  for (int i = 0; i < 4; ++i) xxs.qs[4 + i] = static_cast<uint8_t>(signs_and_scale >> (8 * i));
  auto values = decode(GgmlType::IQ2_XXS, xxs);
  EXPECT_EQ(values[0], -7.0f);
  EXPECT_EQ(values[1], 7.0f);
  EXPECT_EQ(values[7], -7.0f);
  EXPECT_EQ(values[32], 8.0f / 8.0f);  // group 1: scale 0 -> 1 / 8

  // IQ1_S group 2: grid entry 0 (all -1), scale 1 (2 * 1 + 1 = 3), shift negative:
  // d * 3 * (-1 - 1/8).
  moe::BlockIq1S iq1{};
  moe::store_u16(iq1.d, moe::f32_to_f16(1.0f));
  moe::store_u16(iq1.qh + 2 * 2, static_cast<uint16_t>(1u << 12 | 0x8000u));
  values = decode(GgmlType::IQ1_S, iq1);
  EXPECT_EQ(values[64], 3.0f * -1.125f);
  EXPECT_EQ(values[0], 1.0f * -0.875f);  // group 0: scale 0 -> 1, shift +1/8

  // IQ3_S group 0: scale 2 -> 5; elements 0-3 from grid entry 256 (the ninth bit from qh[0]),
  // 0x05090507 in ggml's iq3s_grid: 7, 5, 9, 5; elements 4-7 from entry 0 (1, 1, 1, 1); sign
  // byte 0x01: element 0 negative.
  moe::BlockIq3S iq3{};
  moe::store_u16(iq3.d, moe::f32_to_f16(1.0f));
  iq3.scales[0] = 2;
  iq3.qh[0] = 1;
  iq3.signs[0] = 1;
  values = decode(GgmlType::IQ3_S, iq3);
  EXPECT_EQ(values[0], -35.0f);
  EXPECT_EQ(values[1], 25.0f);
  EXPECT_EQ(values[2], 45.0f);
  EXPECT_EQ(values[4], 5.0f);
}

TEST(IqTypes, LayoutsAreGgmls) {
  const std::pair<GgmlType, std::pair<uint32_t, uint32_t>> layouts[] = {
      {GgmlType::IQ4_NL, {32, 18}},   {GgmlType::IQ4_XS, {256, 136}},
      {GgmlType::IQ3_XXS, {256, 98}}, {GgmlType::IQ3_S, {256, 110}},
      {GgmlType::IQ2_XXS, {256, 66}}, {GgmlType::IQ2_XS, {256, 74}},
      {GgmlType::IQ2_S, {256, 82}},   {GgmlType::IQ1_S, {256, 50}},
      {GgmlType::IQ1_M, {256, 56}},   {GgmlType::TQ1_0, {256, 54}},
      {GgmlType::TQ2_0, {256, 66}}};
  for (const auto& [type, layout] : layouts) {
    EXPECT_EQ(moe::type_layout(static_cast<uint32_t>(type))->block_size, layout.first);
    EXPECT_EQ(moe::type_layout(static_cast<uint32_t>(type))->block_bytes, layout.second);
  }
}

// Any bytes with a finite scale decode to finite values (no index leaves its grid).
TEST(IqTypes, RandomBytesDecodeToFiniteValues) {
  std::mt19937_64 rng(17);
  for (GgmlType type : kNewTypes) {
    if (type == GgmlType::MXFP4) continue;
    const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
    std::vector<uint8_t> bytes(64 * layout.block_bytes);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng() & 0x3b);  // f16 exponents below 31
    std::vector<float> values(64 * layout.block_size);
    moe::dequantize_row(type, bytes.data(), values.data(), static_cast<int64_t>(values.size()));
    for (float v : values) ASSERT_TRUE(std::isfinite(v)) << moe::type_name(type);
  }
}

}  // namespace
