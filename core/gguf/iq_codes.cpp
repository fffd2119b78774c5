// The element order and integer scales of the IQ and TQ super-blocks (256 elements): each block
// as codes in element order with an integer scale per 16 elements (SuperBlockCodes in
// moe/gguf_blocks.hpp). The decoder (quants.cpp) and the CPU kernels (cpu_quant_dot*.cpp) read
// the blocks through these functions only.
#include <cstring>

#include "moe/iq_grids.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"

namespace moe {
namespace {

template <typename Block>
const Block& block_at(const uint8_t* bytes) {
  return *reinterpret_cast<const Block*>(bytes);
}

// Byte j of a grid entry: the magnitude of element j of its 8 (or 4).
int grid_byte(uint64_t entry, int j) { return static_cast<int>((entry >> (8 * j)) & 0xff); }

// 7 stored sign bits and the eighth, which makes the number of minus signs even.
int with_parity_sign(uint32_t seven_bits) {
  const uint32_t bits = seven_bits & 127;
  return static_cast<int>(bits | (static_cast<uint32_t>(__builtin_popcount(bits) & 1) << 7));
}

// 8 elements: the grid entry's magnitudes, negated where the sign byte has bit j set.
void put_signed_8(int8_t* codes, uint64_t entry, int signs) {
  for (int j = 0; j < 8; ++j) {
    const int magnitude = grid_byte(entry, j);
    codes[j] = static_cast<int8_t>((signs >> j) & 1 ? -magnitude : magnitude);
  }
}

// Two 4-element IQ3 entries side by side, as one 8-element entry.
uint64_t join_4(uint32_t first, uint32_t second) {
  return static_cast<uint64_t>(first) | static_cast<uint64_t>(second) << 32;
}

void set_group_scales(SuperBlockCodes& out, int group_of_32, int first_half, int second_half) {
  out.scales[2 * group_of_32] = static_cast<int16_t>(first_half);
  out.scales[2 * group_of_32 + 1] = static_cast<int16_t>(second_half);
}

// IQ2_XXS: group g of 32 is 8 bytes: 4 grid indices (one per 8 elements), then a u32 whose bits
// 7l .. 7l + 6 are the signs of sub-group l and whose top 4 bits are the scale s (2s + 1).
void iq2_xxs_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq2Xxs>(b);
  out.d = load_f16(block.d) * 0.125f;
  for (int g = 0; g < 8; ++g) {
    const uint8_t* group = block.qs + 8 * g;
    const uint32_t signs_and_scale = load_u32(group + 4);
    const int scale = 2 * static_cast<int>(signs_and_scale >> 28) + 1;
    set_group_scales(out, g, scale, scale);
    for (int l = 0; l < 4; ++l) {
      put_signed_8(out.codes + 32 * g + 8 * l, iq::kIq2XxsGrid[group[l]],
                   with_parity_sign(signs_and_scale >> (7 * l)));
    }
  }
}

// IQ2_XS: 32 u16, one per 8 elements: the low 9 bits index the grid, the top 7 are signs.
// scales[g] holds the scales of group g's two halves (low nibble first).
void iq2_xs_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq2Xs>(b);
  out.d = load_f16(block.d) * 0.125f;
  for (int g = 0; g < 8; ++g) {
    set_group_scales(out, g, 2 * (block.scales[g] & 0xf) + 1, 2 * (block.scales[g] >> 4) + 1);
    for (int l = 0; l < 4; ++l) {
      const uint16_t packed = load_u16(block.qs + 2 * (4 * g + l));
      put_signed_8(out.codes + 32 * g + 8 * l, iq::kIq2XsGrid[packed & 511],
                   with_parity_sign(packed >> 9));
    }
  }
}

// IQ2_S: per 8 elements a 10-bit index (low 8 bits in qs[0..31], the high 2 bits of sub-group l
// of group g at bits 2l of qh[g]) and a full sign byte in qs[32..63]; scales as IQ2_XS.
void iq2_s_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq2S>(b);
  out.d = load_f16(block.d) * 0.125f;
  for (int g = 0; g < 8; ++g) {
    set_group_scales(out, g, 2 * (block.scales[g] & 0xf) + 1, 2 * (block.scales[g] >> 4) + 1);
    for (int l = 0; l < 4; ++l) {
      const int index = block.qs[4 * g + l] | ((block.qh[g] >> (2 * l)) & 3) << 8;
      put_signed_8(out.codes + 32 * g + 8 * l, iq::kIq2SGrid[index], block.qs[32 + 4 * g + l]);
    }
  }
}

// IQ3_XXS: qs[0..63] are grid indices, one per 4 elements; qs[64 + 4g ..] a u32 per group of
// 32 with IQ2_XXS's sign and scale bits. Value d * (2s + 1) / 4 * grid * sign.
void iq3_xxs_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq3Xxs>(b);
  out.d = load_f16(block.d) * 0.25f;
  for (int g = 0; g < 8; ++g) {
    const uint32_t signs_and_scale = load_u32(block.qs + 64 + 4 * g);
    const int scale = 2 * static_cast<int>(signs_and_scale >> 28) + 1;
    set_group_scales(out, g, scale, scale);
    for (int l = 0; l < 4; ++l) {
      const uint8_t* index = block.qs + 8 * g + 2 * l;
      put_signed_8(out.codes + 32 * g + 8 * l,
                   join_4(iq::kIq3XxsGrid[index[0]], iq::kIq3XxsGrid[index[1]]),
                   with_parity_sign(signs_and_scale >> (7 * l)));
    }
  }
}

// IQ3_S: per 4 elements a 9-bit index (low 8 bits in qs; the ninth of index k of group g is
// bit k of qh[g]), per 8 a sign byte, per group of 32 a 4-bit scale s (nibble g % 2 of
// scales[g / 2]). Value d * (2s + 1) * grid * sign.
void iq3_s_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq3S>(b);
  out.d = load_f16(block.d);
  for (int g = 0; g < 8; ++g) {
    const int scale = 2 * ((block.scales[g / 2] >> (4 * (g % 2))) & 0xf) + 1;
    set_group_scales(out, g, scale, scale);
    for (int l = 0; l < 4; ++l) {
      const int k = 2 * l;
      const int first = block.qs[8 * g + k] | ((block.qh[g] >> k) & 1) << 8;
      const int second = block.qs[8 * g + k + 1] | ((block.qh[g] >> (k + 1)) & 1) << 8;
      put_signed_8(out.codes + 32 * g + 8 * l,
                   join_4(iq::kIq3SGrid[first], iq::kIq3SGrid[second]),
                   block.signs[4 * g + l]);
    }
  }
}

// 8 IQ1 elements: grid values (-1, 0, 1) times 8, shifted by -1 if `minus` else +1.
void put_iq1_8(int8_t* codes, uint64_t entry, bool minus) {
  for (int j = 0; j < 8; ++j) {
    const int grid = static_cast<int8_t>(grid_byte(entry, j));
    codes[j] = static_cast<int8_t>(8 * grid + (minus ? -1 : 1));
  }
}

// IQ1_S: per group of 32 a u16 qh: bits 3l .. 3l + 2 are the high bits of sub-group l's 11-bit
// index (low 8 bits in qs), bits 12..14 the scale s, bit 15 the shift's sign.
void iq1_s_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq1S>(b);
  out.d = load_f16(block.d) * 0.125f;
  for (int g = 0; g < 8; ++g) {
    const uint16_t high = load_u16(block.qh + 2 * g);
    const int scale = 2 * ((high >> 12) & 7) + 1;
    set_group_scales(out, g, scale, scale);
    for (int l = 0; l < 4; ++l) {
      const int index = block.qs[4 * g + l] | ((high >> (3 * l)) & 7) << 8;
      put_iq1_8(out.codes + 32 * g + 8 * l, iq::kIq1SGrid[index], (high & 0x8000) != 0);
    }
  }
}

// IQ1_M: per 8 elements an 11-bit index: low 8 bits in qs, the high 3 in a nibble of qh (sub-
// groups 2m and 2m + 1 of group g: low and high nibble of qh[2g + m]), whose bit 3 is the
// shift's sign. Per 16 a 3-bit scale: bits 6(g % 2) + 3h of the u16 scales[g / 2]. The f16 d
// is the top nibbles of the four u16 scales, first word lowest.
void iq1_m_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq1M>(b);
  uint16_t words[4];
  for (int i = 0; i < 4; ++i) words[i] = load_u16(block.scales + 2 * i);
  const uint16_t d_bits = static_cast<uint16_t>((words[0] >> 12) | ((words[1] >> 8) & 0x00f0) |
                                                ((words[2] >> 4) & 0x0f00) | (words[3] & 0xf000));
  out.d = f16_to_f32(d_bits) * 0.125f;
  for (int g = 0; g < 8; ++g) {
    const int shift = 6 * (g % 2);
    set_group_scales(out, g, 2 * ((words[g / 2] >> shift) & 7) + 1,
                     2 * ((words[g / 2] >> (shift + 3)) & 7) + 1);
    for (int l = 0; l < 4; ++l) {
      const int nibble = (block.qh[2 * g + l / 2] >> (4 * (l % 2))) & 0xf;
      const int index = block.qs[4 * g + l] | (nibble & 7) << 8;
      put_iq1_8(out.codes + 32 * g + 8 * l, iq::kIq1SGrid[index], (nibble & 8) != 0);
    }
  }
}

// IQ4_XS: group g's 6-bit scale (stored + 32) has its low 4 bits in nibble g % 2 of
// scales_l[g / 2] and its high 2 at bits 2g of scales_h; its indices as IQ4_NL's.
void iq4_xs_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockIq4Xs>(b);
  out.d = load_f16(block.d);
  const uint16_t high = load_u16(block.scales_h);
  for (int g = 0; g < 8; ++g) {
    const int low = (block.scales_l[g / 2] >> (4 * (g % 2))) & 0xf;
    const int scale = (low | ((high >> (2 * g)) & 3) << 4) - 32;
    set_group_scales(out, g, scale, scale);
    for (int j = 0; j < 16; ++j) {
      const uint8_t byte = block.qs[16 * g + j];
      out.codes[32 * g + j] = kIq4NlValues[byte & 0xf];
      out.codes[32 * g + 16 + j] = kIq4NlValues[byte >> 4];
    }
  }
}

// Ternary digit n (0..4) of a TQ1_0 byte: the byte holds digits as a base-3 fraction scaled to
// 256, so digit n is the integer part of 3 * (byte * 3^n mod 256) / 256.
int ternary_digit(uint8_t byte, int n) {
  static constexpr uint8_t kPowersOf3[5] = {1, 3, 9, 27, 81};
  const auto shifted = static_cast<uint8_t>(byte * kPowersOf3[n]);
  return (shifted * 3) >> 8;
}

void set_unit_scales(SuperBlockCodes& out) {
  for (int16_t& scale : out.scales) scale = 1;
}

// TQ1_0: qs[0..31] hold elements 32n + m (digit n of qs[m]), qs[32..47] elements 160 + 16n + m
// (digit n of qs[32 + m]), qh[0..3] elements 240 + 4n + j (digit n of qh[j], n < 4).
void tq1_0_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockTq1_0>(b);
  out.d = load_f16(block.d);
  set_unit_scales(out);
  for (int n = 0; n < 5; ++n) {
    for (int m = 0; m < 32; ++m)
      out.codes[32 * n + m] = static_cast<int8_t>(ternary_digit(block.qs[m], n) - 1);
    for (int m = 0; m < 16; ++m)
      out.codes[160 + 16 * n + m] = static_cast<int8_t>(ternary_digit(block.qs[32 + m], n) - 1);
  }
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 4; ++j)
      out.codes[240 + 4 * n + j] = static_cast<int8_t>(ternary_digit(block.qh[j], n) - 1);
}

// TQ2_0: element 128h + 32s + k is bits 2s .. 2s + 1 of qs[32h + k] (Q2_K's order), minus 1.
void tq2_0_codes(const uint8_t* b, SuperBlockCodes& out) {
  const auto& block = block_at<BlockTq2_0>(b);
  out.d = load_f16(block.d);
  set_unit_scales(out);
  for (int half = 0; half < 2; ++half)
    for (int shift = 0; shift < 4; ++shift)
      for (int k = 0; k < 32; ++k)
        out.codes[128 * half + 32 * shift + k] =
            static_cast<int8_t>(((block.qs[32 * half + k] >> (2 * shift)) & 3) - 1);
}

}  // namespace

SuperBlockDecoder super_block_decoder(GgmlType type) {
  switch (type) {
    case GgmlType::IQ4_XS:
      return iq4_xs_codes;
    case GgmlType::IQ3_XXS:
      return iq3_xxs_codes;
    case GgmlType::IQ3_S:
      return iq3_s_codes;
    case GgmlType::IQ2_XXS:
      return iq2_xxs_codes;
    case GgmlType::IQ2_XS:
      return iq2_xs_codes;
    case GgmlType::IQ2_S:
      return iq2_s_codes;
    case GgmlType::IQ1_S:
      return iq1_s_codes;
    case GgmlType::IQ1_M:
      return iq1_m_codes;
    case GgmlType::TQ1_0:
      return tq1_0_codes;
    case GgmlType::TQ2_0:
      return tq2_0_codes;
    default:
      return nullptr;
  }
}

}  // namespace moe
