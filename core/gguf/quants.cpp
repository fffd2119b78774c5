// Conversion of whole rows between f32 and the stored ggml formats. The block layouts and the
// K-quants' element orders are in moe/gguf_blocks.hpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "moe/error.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"

namespace moe {
namespace {

template <typename Block>
const Block& block_at(const uint8_t* bytes) {
  return *reinterpret_cast<const Block*>(bytes);
}

// --- 32-element blocks --------------------------------------------------------------------------

// Q4_0, Q4_1, Q5_0, Q5_1: the 5-bit code of element i (4-bit for Q4_*), before offset and scale.
int nibble_code(const uint8_t* qs, uint32_t qh, int i, bool has_high_bit) {
  const int nibble = i < 16 ? (qs[i] & 0xf) : (qs[i - 16] >> 4);
  return has_high_bit ? (nibble | static_cast<int>((qh >> i) & 1u) << 4) : nibble;
}

void dequantize_q4_0(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ4_0>(b);
  const float d = load_f16(block.d);
  for (int i = 0; i < kBlockElements; ++i)
    y[i] = static_cast<float>(nibble_code(block.qs, 0, i, false) - 8) * d;
}

void dequantize_q4_1(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ4_1>(b);
  const float d = load_f16(block.d);
  const float m = load_f16(block.m);
  for (int i = 0; i < kBlockElements; ++i)
    y[i] = static_cast<float>(nibble_code(block.qs, 0, i, false)) * d + m;
}

void dequantize_q5_0(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ5_0>(b);
  const float d = load_f16(block.d);
  const uint32_t qh = load_u32(block.qh);
  for (int i = 0; i < kBlockElements; ++i)
    y[i] = static_cast<float>(nibble_code(block.qs, qh, i, true) - 16) * d;
}

void dequantize_q5_1(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ5_1>(b);
  const float d = load_f16(block.d);
  const float m = load_f16(block.m);
  const uint32_t qh = load_u32(block.qh);
  for (int i = 0; i < kBlockElements; ++i)
    y[i] = static_cast<float>(nibble_code(block.qs, qh, i, true)) * d + m;
}

void dequantize_q8_0(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ8_0>(b);
  const float d = load_f16(block.d);
  for (int i = 0; i < kBlockElements; ++i) y[i] = static_cast<float>(block.qs[i]) * d;
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
  const auto& block = block_at<BlockMxfp4>(b);
  const int exponent = static_cast<int>(block.e) - 128;
  for (int i = 0; i < kBlockElements; ++i) {
    y[i] =
        std::ldexp(static_cast<float>(e2m1_doubled(nibble_code(block.qs, 0, i, false))), exponent);
  }
}

void dequantize_iq4_nl(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockIq4Nl>(b);
  const float d = load_f16(block.d);
  for (int i = 0; i < kBlockElements; ++i)
    y[i] = d * static_cast<float>(kIq4NlValues[nibble_code(block.qs, 0, i, false)]);
}

// --- 256-element super-blocks -------------------------------------------------------------------

// The K-quants: codes in element order (k_quant_codes), then each group's scale (and min).

// Q2_K: 16 groups of 16, each with a 4-bit scale (low) and 4-bit min (high) in scales[g].
void dequantize_q2_k(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ2_K>(b);
  int8_t q[kSuperBlockElements];
  k_quant_codes(block, q);
  const float d = load_f16(block.d);
  const float dmin = load_f16(block.dmin);
  for (int group = 0; group < 16; ++group) {
    const float scale = d * static_cast<float>(block.scales[group] & 0xf);
    const float min = dmin * static_cast<float>(block.scales[group] >> 4);
    for (int i = 16 * group; i < 16 * group + 16; ++i)
      y[i] = scale * static_cast<float>(q[i]) - min;
  }
}

// Q3_K: 16 groups of 16 with signed 6-bit scales (q3_k_scale).
void dequantize_q3_k(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ3_K>(b);
  int8_t q[kSuperBlockElements];
  k_quant_codes(block, q);
  const float d = load_f16(block.d);
  for (int group = 0; group < 16; ++group) {
    const float scale = d * static_cast<float>(q3_k_scale(block.scales, group));
    for (int i = 16 * group; i < 16 * group + 16; ++i) y[i] = scale * static_cast<float>(q[i]);
  }
}

// Q4_K / Q5_K: 8 groups of 32, each with a 6-bit scale and a 6-bit min (k_quant_scale_and_min).
template <typename Block>
void dequantize_q4_k_q5_k(const uint8_t* b, float* y) {
  const auto& block = block_at<Block>(b);
  int8_t q[kSuperBlockElements];
  k_quant_codes(block, q);
  const float d = load_f16(block.d);
  const float dmin = load_f16(block.dmin);
  for (int group = 0; group < 8; ++group) {
    const auto [scale_code, min_code] = k_quant_scale_and_min(block.scales, group);
    const float scale = d * static_cast<float>(scale_code);
    const float min = dmin * static_cast<float>(min_code);
    for (int i = 32 * group; i < 32 * group + 32; ++i)
      y[i] = scale * static_cast<float>(q[i]) - min;
  }
}

// Q6_K: 16 groups of 16 with int8 scales.
void dequantize_q6_k(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ6_K>(b);
  int8_t q[kSuperBlockElements];
  k_quant_codes(block, q);
  const float d = load_f16(block.d);
  for (int group = 0; group < 16; ++group) {
    const float scale = d * static_cast<float>(block.scales[group]);
    for (int i = 16 * group; i < 16 * group + 16; ++i) y[i] = scale * static_cast<float>(q[i]);
  }
}

void dequantize_q8_k(const uint8_t* b, float* y) {
  const auto& block = block_at<BlockQ8_K>(b);
  const float d = load_f32(block.d);
  for (int i = 0; i < kSuperBlockElements; ++i) y[i] = d * static_cast<float>(block.qs[i]);
}

// The IQ and TQ super-blocks through their integer codes (moe/gguf_blocks.hpp): d * scale and
// the product with the code are exact in f32, so these are ggml's values bit for bit.
template <GgmlType kType>
void dequantize_super_block(const uint8_t* b, float* y) {
  SuperBlockCodes block;
  super_block_decoder(kType)(b, block);
  for (int group = 0; group < 16; ++group) {
    const float scale = block.d * static_cast<float>(block.scales[group]);
    for (int i = 16 * group; i < 16 * group + 16; ++i)
      y[i] = scale * static_cast<float>(block.codes[i]);
  }
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
      return dequantize_q4_k_q5_k<BlockQ4_K>;
    case GgmlType::Q5_K:
      return dequantize_q4_k_q5_k<BlockQ5_K>;
    case GgmlType::Q6_K:
      return dequantize_q6_k;
    case GgmlType::Q8_K:
      return dequantize_q8_k;
    case GgmlType::IQ4_NL:
      return dequantize_iq4_nl;
    case GgmlType::IQ4_XS:
      return dequantize_super_block<GgmlType::IQ4_XS>;
    case GgmlType::IQ3_XXS:
      return dequantize_super_block<GgmlType::IQ3_XXS>;
    case GgmlType::IQ3_S:
      return dequantize_super_block<GgmlType::IQ3_S>;
    case GgmlType::IQ2_XXS:
      return dequantize_super_block<GgmlType::IQ2_XXS>;
    case GgmlType::IQ2_XS:
      return dequantize_super_block<GgmlType::IQ2_XS>;
    case GgmlType::IQ2_S:
      return dequantize_super_block<GgmlType::IQ2_S>;
    case GgmlType::IQ1_S:
      return dequantize_super_block<GgmlType::IQ1_S>;
    case GgmlType::IQ1_M:
      return dequantize_super_block<GgmlType::IQ1_M>;
    case GgmlType::TQ1_0:
      return dequantize_super_block<GgmlType::TQ1_0>;
    case GgmlType::TQ2_0:
      return dequantize_super_block<GgmlType::TQ2_0>;
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

void quantize_q8_0(const float* x, BlockQ8_0& block) {
  float max_abs = 0.0f;
  for (int j = 0; j < kBlockElements; ++j) max_abs = std::max(max_abs, std::fabs(x[j]));
  const float d = max_abs / 127.0f;
  const float inverse = d > 0.0f ? 1.0f / d : 0.0f;
  store_u16(block.d, f32_to_f16(d));
  for (int j = 0; j < kBlockElements; ++j) {
    float q = std::round(x[j] * inverse);
    if (!(q >= -127.0f)) q = std::isnan(q) ? 0.0f : -127.0f;  // NaN -> 0, clamp the rest
    q = std::min(q, 127.0f);
    block.qs[j] = static_cast<int8_t>(q);
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
      for (int64_t i = 0; i < n / kBlockElements; ++i)
        quantize_q8_0(src + i * kBlockElements, reinterpret_cast<BlockQ8_0*>(out)[i]);
      return;
    default:
      throw Error("quantize_row: converting f32 to " + type_name(type) +
                  " is not supported (F32, F16, BF16 and Q8_0 are)");
  }
}

}  // namespace moe
