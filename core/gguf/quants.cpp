// Conversion of whole rows between f32 and the stored ggml formats.
//
// Block layouts (byte offsets inside one block; d, m, dmin are f16 unless noted):
//   Q4_0  32/18  d@0 qs@2[16]               x = d * (nibble - 8)
//   Q4_1  32/20  d@0 m@2 qs@4[16]           x = d * nibble + m
//   Q5_0  32/22  d@0 qh@2[4] qs@6[16]       x = d * ((nibble | high bit << 4) - 16)
//   Q5_1  32/24  d@0 m@2 qh@4[4] qs@8[16]   x = d * (nibble | high bit << 4) + m
//   Q8_0  32/34  d@0 qs@2[32] int8          x = d * q
//   MXFP4 32/17  e@0 (E8M0) qs@1[16]        x = 2^(e-127) * E2M1(nibble)
//   In these 32-element blocks byte j holds element j in its low nibble and element j + 16 in
//   its high nibble; the high bit of element i is bit i of qh (a little-endian u32).
//   Q2_K  256/84   scales@0[16] qs@16[64] d@80 dmin@82
//   Q3_K  256/110  hmask@0[32] qs@32[64] scales@96[12] d@108
//   Q4_K  256/144  d@0 dmin@2 scales@4[12] qs@16[128]
//   Q5_K  256/176  d@0 dmin@2 scales@4[12] qh@16[32] qs@48[128]
//   Q6_K  256/210  ql@0[128] qh@128[64] scales@192[16] int8, d@208
//   Q8_K  256/292  d@0 (f32) qs@4[256] int8, bsums@260 (unused here)
// The K-quant element orders are described next to each decoder below.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "moe/error.hpp"
#include "moe/ggml_types.hpp"

namespace moe {
namespace {

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
float load_f16(const uint8_t* p) { return f16_to_f32(load_u16(p)); }
void store_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

constexpr int kSmallBlock = 32;
constexpr int kSuperBlock = 256;

// --- 32-element blocks --------------------------------------------------------------------------

// Q4_0, Q4_1, Q5_0, Q5_1: the 5-bit code of element i (4-bit for Q4_*), before offset and scale.
int nibble_code(const uint8_t* qs, uint32_t qh, int i, bool has_high_bit) {
  const int nibble = i < 16 ? (qs[i] & 0xf) : (qs[i - 16] >> 4);
  return has_high_bit ? (nibble | static_cast<int>((qh >> i) & 1u) << 4) : nibble;
}

void dequantize_q4_0(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  for (int i = 0; i < kSmallBlock; ++i)
    y[i] = static_cast<float>(nibble_code(b + 2, 0, i, false) - 8) * d;
}

void dequantize_q4_1(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const float m = load_f16(b + 2);
  for (int i = 0; i < kSmallBlock; ++i)
    y[i] = static_cast<float>(nibble_code(b + 4, 0, i, false)) * d + m;
}

void dequantize_q5_0(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const uint32_t qh = load_u32(b + 2);
  for (int i = 0; i < kSmallBlock; ++i)
    y[i] = static_cast<float>(nibble_code(b + 6, qh, i, true) - 16) * d;
}

void dequantize_q5_1(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  const float m = load_f16(b + 2);
  const uint32_t qh = load_u32(b + 4);
  for (int i = 0; i < kSmallBlock; ++i)
    y[i] = static_cast<float>(nibble_code(b + 8, qh, i, true)) * d + m;
}

void dequantize_q8_0(const uint8_t* b, float* y) {
  const float d = load_f16(b);
  for (int i = 0; i < kSmallBlock; ++i)
    y[i] = static_cast<float>(static_cast<int8_t>(b[2 + i])) * d;
}

// E2M1 (FP4) code -> twice its value, so that every value is an integer: 0 1 2 3 4 6 8 12.
int e2m1_doubled(int code) {
  const int magnitude = code & 7;
  const int exponent = magnitude >> 1;
  const int mantissa = magnitude & 1;
  const int doubled = exponent == 0 ? mantissa : (2 + mantissa) << (exponent - 1);
  return (code & 8) ? -doubled : doubled;
}

void dequantize_mxfp4(const uint8_t* b, float* y) {
  // 2^(e-127) * value == 2^(e-128) * doubled value.
  const int exponent = static_cast<int>(b[0]) - 128;
  for (int i = 0; i < kSmallBlock; ++i) {
    y[i] = std::ldexp(static_cast<float>(e2m1_doubled(nibble_code(b + 1, 0, i, false))), exponent);
  }
}

// --- 256-element super-blocks -------------------------------------------------------------------

// Q2_K: 16 groups of 16 elements, each with a 4-bit scale (low) and 4-bit min (high) in
// scales[g]. The 256 elements are two halves of 128; in half h, element 32*s + k (s = 0..3,
// k = 0..31) is bits 2s..2s+1 of qs[32*h + k], and belongs to group 8*h + 2*s + (k >= 16).
void dequantize_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = load_f16(b + 80);
  const float dmin = load_f16(b + 82);
  for (int half = 0; half < 2; ++half) {
    for (int shift = 0; shift < 4; ++shift) {
      for (int part = 0; part < 2; ++part) {
        const uint8_t sc = scales[8 * half + 2 * shift + part];
        const float scale = d * static_cast<float>(sc & 0xf);
        const float min = dmin * static_cast<float>(sc >> 4);
        for (int k = 16 * part; k < 16 * part + 16; ++k) {
          const int q = (qs[32 * half + k] >> (2 * shift)) & 3;
          y[128 * half + 32 * shift + k] = scale * static_cast<float>(q) - min;
        }
      }
    }
  }
}

// Q3_K: the same element order as Q2_K for the low 2 bits; the third bit of element
// 128*h + 32*s + k is bit (4*h + s) of hmask[k], and a clear bit subtracts 4. The 16 group
// scales are 6-bit signed (offset 32): low 4 bits in scales[g] (g < 8) or the high nibble of
// scales[g - 8]; high 2 bits at bits 2*(g/4) of scales[8 + g%4].
void dequantize_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const uint8_t* packed = b + 96;
  const float d = load_f16(b + 108);
  for (int half = 0; half < 2; ++half) {
    for (int shift = 0; shift < 4; ++shift) {
      for (int part = 0; part < 2; ++part) {
        const int group = 8 * half + 2 * shift + part;
        const int low = group < 8 ? (packed[group] & 0xf) : (packed[group - 8] >> 4);
        const int high = (packed[8 + group % 4] >> (2 * (group / 4))) & 3;
        const float scale = d * static_cast<float>((low | high << 4) - 32);
        const int mask_bit = 4 * half + shift;
        for (int k = 16 * part; k < 16 * part + 16; ++k) {
          const int low_bits = (qs[32 * half + k] >> (2 * shift)) & 3;
          const int q = low_bits - (((hmask[k] >> mask_bit) & 1) ? 0 : 4);
          y[128 * half + 32 * shift + k] = scale * static_cast<float>(q);
        }
      }
    }
  }
}

// Q4_K / Q5_K: 8 groups of 32 elements, each with a 6-bit scale and a 6-bit min packed in 12
// bytes. Group g < 4: scale = s[g] & 63, min = s[g + 4] & 63. Group g >= 4: the low 4 bits are
// in s[g + 4] (scale: low nibble, min: high nibble), the high 2 bits are the top bits of
// s[g - 4] (scale) and s[g] (min).
void scale_and_min(const uint8_t* s, int group, int& scale, int& min) {
  if (group < 4) {
    scale = s[group] & 63;
    min = s[group + 4] & 63;
  } else {
    scale = (s[group + 4] & 0xf) | ((s[group - 4] >> 6) << 4);
    min = (s[group + 4] >> 4) | ((s[group] >> 6) << 4);
  }
}

// Elements 64*c .. 64*c + 31 are the low nibbles of qs[32*c .. 32*c + 31] (group 2c), the next
// 32 their high nibbles (group 2c + 1). Q5_K's fifth bit of element 64*c + 32*p + k is bit
// (2c + p) of qh[k].
void dequantize_q4_k_q5_k(const uint8_t* b, float* y, bool five_bits) {
  const float d = load_f16(b);
  const float dmin = load_f16(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = five_bits ? b + 48 : b + 16;
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int part = 0; part < 2; ++part) {
      const int group = 2 * chunk + part;
      int scale_code = 0;
      int min_code = 0;
      scale_and_min(scales, group, scale_code, min_code);
      const float scale = d * static_cast<float>(scale_code);
      const float min = dmin * static_cast<float>(min_code);
      for (int k = 0; k < 32; ++k) {
        const uint8_t byte = qs[32 * chunk + k];
        int q = part == 0 ? (byte & 0xf) : (byte >> 4);
        if (five_bits && ((qh[k] >> group) & 1)) q += 16;
        y[32 * group + k] = scale * static_cast<float>(q) - min;
      }
    }
  }
}

// Q6_K: two halves of 128; in half h, for k = 0..31 the four elements 128h + k + 32j (j = 0..3)
// take their low 4 bits from ql[64h + k] (j = 0), ql[64h + 32 + k] (j = 1), the high nibbles of
// those (j = 2, 3), and their high 2 bits from bits 2j of qh[32h + k]. The value is
// d * scales[group] * (q - 32) with 16 groups of 16 elements in order.
void dequantize_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
  const float d = load_f16(b + 208);
  for (int half = 0; half < 2; ++half) {
    for (int k = 0; k < 32; ++k) {
      for (int j = 0; j < 4; ++j) {
        const uint8_t low_byte = ql[64 * half + 32 * (j & 1) + k];
        const int low = j < 2 ? (low_byte & 0xf) : (low_byte >> 4);
        const int high = (qh[32 * half + k] >> (2 * j)) & 3;
        const int element = 128 * half + 32 * j + k;
        const float scale = d * static_cast<float>(scales[element / 16]);
        y[element] = scale * static_cast<float>((low | high << 4) - 32);
      }
    }
  }
}

void dequantize_q8_k(const uint8_t* b, float* y) {
  const float d = std::bit_cast<float>(load_u32(b));
  for (int i = 0; i < kSuperBlock; ++i)
    y[i] = d * static_cast<float>(static_cast<int8_t>(b[4 + i]));
}

using BlockDecoder = void (*)(const uint8_t*, float*);

BlockDecoder block_decoder(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return dequantize_q4_0;
    case GgmlType::Q4_1:
      return dequantize_q4_1;
    case GgmlType::Q5_0:
      return dequantize_q5_0;
    case GgmlType::Q5_1:
      return dequantize_q5_1;
    case GgmlType::Q8_0:
      return dequantize_q8_0;
    case GgmlType::MXFP4:
      return dequantize_mxfp4;
    case GgmlType::Q2_K:
      return dequantize_q2_k;
    case GgmlType::Q3_K:
      return dequantize_q3_k;
    case GgmlType::Q4_K:
      return [](const uint8_t* b, float* y) { dequantize_q4_k_q5_k(b, y, false); };
    case GgmlType::Q5_K:
      return [](const uint8_t* b, float* y) { dequantize_q4_k_q5_k(b, y, true); };
    case GgmlType::Q6_K:
      return dequantize_q6_k;
    case GgmlType::Q8_K:
      return dequantize_q8_k;
    default:
      return nullptr;
  }
}

template <typename T>
void convert_scalars(const uint8_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T value;
    std::memcpy(&value, in + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    out[i] = static_cast<float>(value);
  }
}

void require_whole_blocks(GgmlType type, int64_t n, const char* what) {
  const auto layout = type_layout(static_cast<uint32_t>(type));
  if (!layout) throw Error(std::string(what) + ": " + type_name(type) + " is not a ggml type");
  if (n < 0 || n % layout->block_size != 0) {
    throw Error(std::string(what) + ": " + std::to_string(n) + " elements of " + type_name(type) +
                " is not a multiple of its block size " + std::to_string(layout->block_size));
  }
}

void quantize_q8_0(const float* x, uint8_t* b) {
  float max_abs = 0.0f;
  for (int j = 0; j < kSmallBlock; ++j) max_abs = std::max(max_abs, std::fabs(x[j]));
  const float d = max_abs / 127.0f;
  const float inverse = d > 0.0f ? 1.0f / d : 0.0f;
  store_u16(b, f32_to_f16(d));
  for (int j = 0; j < kSmallBlock; ++j) {
    float q = std::round(x[j] * inverse);
    if (!(q >= -127.0f)) q = std::isnan(q) ? 0.0f : -127.0f;  // NaN -> 0, clamp the rest
    q = std::min(q, 127.0f);
    b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
  }
}

}  // namespace

bool is_supported_for_compute(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::F64:
    case GgmlType::I8:
    case GgmlType::I16:
    case GgmlType::I32:
      return true;
    default:
      return block_decoder(type) != nullptr;
  }
}

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  require_whole_blocks(type, n, "dequantize_row");
  const auto* in = static_cast<const uint8_t*>(src);
  switch (type) {
    case GgmlType::F32:
      if (n > 0) std::memcpy(dst, in, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F64:
      convert_scalars<double>(in, dst, n);
      return;
    case GgmlType::I8:
      convert_scalars<int8_t>(in, dst, n);
      return;
    case GgmlType::I16:
      convert_scalars<int16_t>(in, dst, n);
      return;
    case GgmlType::I32:
      convert_scalars<int32_t>(in, dst, n);
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(in + 2 * i));
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(in + 2 * i));
      return;
    default:
      break;
  }
  const BlockDecoder decode = block_decoder(type);
  if (!decode)
    throw Error("dequantize_row: converting " + type_name(type) + " to f32 is not supported yet");
  const auto layout = *type_layout(static_cast<uint32_t>(type));
  const int64_t blocks = n / layout.block_size;
  for (int64_t i = 0; i < blocks; ++i)
    decode(in + i * layout.block_bytes, dst + i * layout.block_size);
}

void quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  require_whole_blocks(type, n, "quantize_row");
  auto* out = static_cast<uint8_t*>(dst);
  switch (type) {
    case GgmlType::F32:
      if (n > 0) std::memcpy(out, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) store_u16(out + 2 * i, f32_to_f16(src[i]));
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) store_u16(out + 2 * i, f32_to_bf16(src[i]));
      return;
    case GgmlType::Q8_0:
      for (int64_t i = 0; i < n / kSmallBlock; ++i)
        quantize_q8_0(src + i * kSmallBlock, out + i * 34);
      return;
    default:
      throw Error("quantize_row: converting f32 to " + type_name(type) +
                  " is not supported (F32, F16, BF16 and Q8_0 are)");
  }
}

}  // namespace moe
