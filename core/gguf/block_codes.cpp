// The element order of the K-quant super-blocks: each block's codes in element order, before
// the group scales. The decoders (quants.cpp) and the scalar CPU kernels (cpu_quant_dot.cpp)
// read them from here; the vectorized kernels and the GL shader follow the same order.
#include "moe/gguf_blocks.hpp"

namespace moe {

// Q2_K: two halves of 128; in half h, element 32s + k (s = 0..3, k = 0..31) is bits 2s..2s+1
// of qs[32h + k].
void k_quant_codes(const BlockQ2_K& block, int8_t* codes) {
  for (int half = 0; half < 2; ++half)
    for (int shift = 0; shift < 4; ++shift)
      for (int k = 0; k < 32; ++k)
        codes[128 * half + 32 * shift + k] =
            static_cast<int8_t>((block.qs[32 * half + k] >> (2 * shift)) & 3);
}

// Q3_K: the low 2 bits as Q2_K; the third bit of element 128h + 32s + k is bit 4h + s of
// hmask[k], and a clear bit subtracts 4.
void k_quant_codes(const BlockQ3_K& block, int8_t* codes) {
  for (int half = 0; half < 2; ++half) {
    for (int shift = 0; shift < 4; ++shift) {
      for (int k = 0; k < 32; ++k) {
        const int low = (block.qs[32 * half + k] >> (2 * shift)) & 3;
        const int high = (block.hmask[k] >> (4 * half + shift)) & 1;
        codes[128 * half + 32 * shift + k] = static_cast<int8_t>(low - (high ? 0 : 4));
      }
    }
  }
}

// Q4_K: elements 64c .. 64c + 31 are the low nibbles of qs[32c .. 32c + 31] (group 2c), the
// next 32 their high nibbles (group 2c + 1).
void k_quant_codes(const BlockQ4_K& block, int8_t* codes) {
  for (int group = 0; group < 8; ++group) {
    for (int k = 0; k < 32; ++k) {
      const uint8_t byte = block.qs[32 * (group / 2) + k];
      codes[32 * group + k] = static_cast<int8_t>(group % 2 == 0 ? (byte & 0xf) : (byte >> 4));
    }
  }
}

// Q5_K: Q4_K's nibbles; the fifth bit of element 32g + k is bit g of qh[k].
void k_quant_codes(const BlockQ5_K& block, int8_t* codes) {
  for (int group = 0; group < 8; ++group) {
    for (int k = 0; k < 32; ++k) {
      const uint8_t byte = block.qs[32 * (group / 2) + k];
      const int nibble = group % 2 == 0 ? (byte & 0xf) : (byte >> 4);
      codes[32 * group + k] = static_cast<int8_t>(nibble | ((block.qh[k] >> group) & 1) << 4);
    }
  }
}

// Q6_K: two halves of 128; in half h, for k = 0..31 the four elements 128h + 32j + k
// (j = 0..3) take their low 4 bits from ql[64h + k] (j = 0), ql[64h + 32 + k] (j = 1), the high
// nibbles of those (j = 2, 3), and their high 2 bits from bits 2j of qh[32h + k]; stored + 32.
void k_quant_codes(const BlockQ6_K& block, int8_t* codes) {
  for (int half = 0; half < 2; ++half) {
    for (int k = 0; k < 32; ++k) {
      for (int j = 0; j < 4; ++j) {
        const uint8_t low_byte = block.ql[64 * half + 32 * (j & 1) + k];
        const int low = j < 2 ? (low_byte & 0xf) : (low_byte >> 4);
        const int high = (block.qh[32 * half + k] >> (2 * j)) & 3;
        codes[128 * half + 32 * j + k] = static_cast<int8_t>((low | high << 4) - 32);
      }
    }
  }
}

}  // namespace moe
