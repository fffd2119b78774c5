#pragma once
// ggml tensor element types as stored in GGUF files: ids, block layouts and conversion to f32.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moe {

// Numeric ids are the ones GGUF files use (ggml's enum ggml_type).
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

// Storage layout of one type: `block_size` elements take `block_bytes` bytes.
struct TypeLayout {
  uint32_t block_size;
  uint32_t block_bytes;
};

// Layout for any type id a GGUF file may hold; nullopt for ids that are not ggml types.
std::optional<TypeLayout> type_layout(uint32_t type_id);
// "F32", "Q8_0", ... or "unknown type 42".
std::string type_name(uint32_t type_id);
inline std::string type_name(GgmlType type) { return type_name(static_cast<uint32_t>(type)); }
// Types dequantize_row can convert to f32: F32, F16, BF16, F64, I8, I16, I32, Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, MXFP4, the IQ types (IQ4_NL, IQ4_XS, IQ3_XXS,
// IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M) and TQ1_0, TQ2_0 (not Q8_1 or I64).
bool is_supported_for_compute(GgmlType type);

// IEEE half and bfloat16 conversion (round to nearest even when narrowing).
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);

// Convert `n` elements (a multiple of the type's block size) to f32 / from f32. The stored side
// (`src` of dequantize_row, `dst` of quantize_row) may be unaligned. quantize_row writes F32,
// F16, BF16 and Q8_0 (d = max|x| / 127, q = round(x / d)). Throws moe::Error for unsupported
// types or a partial block.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);
void quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace moe
