#pragma once
// Dot products of quantized weight rows with 8-bit quantized activations (private to the CPU
// backend). Instead of converting every weight block to f32 (cpu_matmul.cpp), an activation row
// is quantized once to blocks of int8 with one f32 scale, and each weight block is multiplied
// with it in integers; the block scales are applied in float. This is what llama.cpp does for
// the same formats, so the results differ from an exact f32 product in the same small way.
//
// Three activation formats, matching the weights' block sizes:
//   ActivationBlock32  for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4 (32-element blocks);
//   ActivationBlock256 for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and the 256-element IQ and TQ types,
//                      with the sums of each 16 values so that per-group minimums cost no
//                      multiplies;
//   f32 values         for F16 and BF16 weights (cpu_float_dot*.cpp): each activation rounded
//                      to the weights' type and back, as ggml's CPU backend converts them (its
//                      vec_dot_type), so every product of two f16 (or bf16) values is exact in
//                      f32 and only the order of the sums differs from llama.cpp's.
// Every kernel has a portable scalar version (the reference the others are tested against) and
// vectorized ones per SIMD level (moe/cpu_level.hpp), chosen at run time: cpu_quant_dot_simd.cpp,
// cpu_float_dot_simd.cpp, and the many-token kernels of the 32-element types, Q2_K and Q3_K in
// cpu_quant_dot_many_simd.cpp.
#include <cstddef>
#include <cstdint>

#include "moe/cpu_level.hpp"
#include "moe/ggml_types.hpp"

namespace moe::cpu {

struct ActivationBlock32 {
  int8_t q[32];
  float d;    // value = d * q
  float sum;  // d * Σq: the offset term of Q4_1 / Q5_1 (x = d_w * q_w + m)
};

struct ActivationBlock256 {
  int8_t q[256];
  float d;
  int16_t group_sums[16];  // Σq over elements 16g .. 16g + 15
};

// n f32 values (a multiple of the block size) to activation blocks, by the rules of ggml's CPU
// backend, so that the integer products are llama.cpp's:
//   32 (ggml's q8_0 and q8_1): q = round-half-even(x * 127 / max|x|); d = max|x| / 127 stored
//      as f16; sum = d * Σq stored as f16 (q8_1's s), with d before its rounding;
//   256 (ggml's q8_K): m = the value of largest magnitude (the first on a tie); q =
//      round-half-even(x * (-127 / m)), at most 127; d = 1 / (-127 / m) in f32 (so d and q carry
//      the opposite sign of x's; their product is the same).
// NaN values give q = 0. (`--exact` skips all this: CpuBackendOptions::exact_products.)
void quantize_activations_32(const float* x, ActivationBlock32* out, int64_t n);
void quantize_activations_256(const float* x, ActivationBlock256* out, int64_t n);

// Σ_i weight_row[i] * activation[i] over `cols` elements of one weight row in its stored type.
using RowDot = float (*)(const uint8_t* weight_row, const void* activation, int64_t cols);

// out[t * out_stride] = weight_row · activation t for t < n, the activation rows `stride` bytes
// apart: one row against several tokens, unpacking each weight block once (prefill).
using RowDotMany = void (*)(const uint8_t* weight_row, const uint8_t* activations, size_t stride,
                            int n, int64_t cols, float* out, size_t out_stride);

// n f32 values (whole blocks) to activation blocks, as quantize_activations_32 / _256 do.
using QuantizeRow = void (*)(const float* x, void* out, int64_t n);

enum class ActivationFormat {
  Int8Blocks32,   // ActivationBlock32
  Int8Blocks256,  // ActivationBlock256
  F16Values,      // f32 values rounded to f16 precision (block_size floats per block)
  BF16Values,     // f32 values rounded to bf16 precision (block_size floats per block)
};

// Whether the activations stay f32 values (F16 / BF16 weights) rather than int8 blocks.
inline bool is_float_format(ActivationFormat format) {
  return format == ActivationFormat::F16Values || format == ActivationFormat::BF16Values;
}

// The activations as ggml's CPU backend feeds F16 / BF16 weights: each x rounded to the nearest
// f16 / bf16 (ties to even, NaN kept) and widened back, in place; other types: unchanged.
void round_activations_for(GgmlType weight_type, float* x, int64_t n);

struct QuantDot {
  int block_size = 0;                 // elements per activation block: cols must be a multiple
  size_t activation_block_bytes = 0;  // sizeof the activation block
  RowDot dot = nullptr;
  RowDotMany dot_many = nullptr;  // nullptr: call `dot` per token
  ActivationFormat format = ActivationFormat::Int8Blocks32;
  int max_tokens = 0;  // > 0: larger batches take convert + Eigen instead (faster there)
  QuantizeRow quantize = nullptr;  // the level's vectorized quantizer; nullptr: the scalar one

  // Whether the kernel takes rows of `cols` elements in a batch of n tokens.
  bool applies(int64_t cols, int64_t n) const {
    return cols % block_size == 0 && (max_tokens == 0 || n <= max_tokens);
  }
};

// The kernel for `type` at `level`, or nullptr when the type has none (F32 and the types without
// kernels use convert + Eigen; F32 weights are read in place). Quantized types have a kernel at
// every level (Scalar: the portable reference); F16 and BF16 only at the vectorized levels
// (without SIMD, convert + Eigen is faster than a scalar loop).
const QuantDot* quant_dot_for(GgmlType type, SimdLevel level = active_simd_level());
// The portable scalar kernel of `type` (also for F16 / BF16): the reference of the tests.
const QuantDot* scalar_quant_dot_for(GgmlType type);

// Quantizes n values into the activation format of `kernel` (n a multiple of its block size;
// the float formats are rounded copies).
void quantize_activations(const QuantDot& kernel, const float* x, void* out, int64_t n);

namespace detail {
// The vectorized kernels of one SIMD level, from cpu_quant_dot_simd.cpp,
// cpu_quant_dot_many_simd.cpp and cpu_float_dot_simd.cpp compiled with that level's flags into
// namespace detail::<level>; each returns nullptr for a type it has no kernel for.
//   row_dot:            one token, every quantized type but the IQ / TQ ones;
//   iq_row_dot(_many):  one token / several tokens, the IQ and TQ types and MXFP4 (each token's
//                       result bit-identical to iq_row_dot's; cpu_quant_dot_iq_simd.cpp);
//   row_dot_many:       several tokens, Q4_K, Q5_K, Q6_K;
//   block_dot_many:     several tokens, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K (each token's
//                       result bit-identical to row_dot's);
//   float_row_dot(_many): F16 / BF16 weights with f32 activations (rounded or not);
//   activation_quantizer: quantize_activations_32 / _256 vectorized, bit for bit the same
//                       (cpu_quantize_activations_simd.cpp).
#define MOE_DECLARE_SIMD_LEVEL_KERNELS(level)             \
  namespace level {                                       \
  RowDot row_dot(GgmlType type);                          \
  RowDot iq_row_dot(GgmlType type);                       \
  RowDotMany iq_row_dot_many(GgmlType type);              \
  RowDotMany row_dot_many(GgmlType type);                 \
  RowDotMany block_dot_many(GgmlType type);               \
  RowDot float_row_dot(GgmlType type);                    \
  RowDotMany float_row_dot_many(GgmlType type);           \
  QuantizeRow activation_quantizer(ActivationFormat format); \
  }
MOE_DECLARE_SIMD_LEVEL_KERNELS(avx2)
MOE_DECLARE_SIMD_LEVEL_KERNELS(avx_vnni)
MOE_DECLARE_SIMD_LEVEL_KERNELS(avx512_vnni)
#undef MOE_DECLARE_SIMD_LEVEL_KERNELS

// F16 / BF16 weights with f32 activations, portable (cpu_float_dot.cpp); nullptr for other
// types. Elements per activation block of these kernels:
inline constexpr int kFloatDotBlock = 16;
RowDot scalar_float_row_dot(GgmlType type);
}  // namespace detail

}  // namespace moe::cpu
