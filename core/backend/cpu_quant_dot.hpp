#pragma once
// Dot products of quantized weight rows with 8-bit quantized activations (private to the CPU
// backend). Instead of converting every weight block to f32 (cpu_matmul.cpp), an activation row
// is quantized once to blocks of int8 with one f32 scale, and each weight block is multiplied
// with it in integers; the block scales are applied in float. This is what llama.cpp does for
// the same formats, so the results differ from an exact f32 product in the same small way.
//
// Three activation formats, matching the weights' block sizes:
//   ActivationBlock32  for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (32-element blocks);
//   ActivationBlock256 for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks), with the
//                      sums of each 16 values so that per-group minimums cost no multiplies;
//   plain f32          for F16 and BF16 weights (cpu_float_dot*.cpp): nothing is rounded, each
//                      weight is widened to f32 exactly and multiplied with the f32 activation.
// Every kernel has a portable scalar version (the reference the AVX2 version is tested against)
// and, when compiled with AVX2, a vectorized one (cpu_quant_dot_avx2.cpp, cpu_float_dot_avx2.cpp;
// the many-token kernels of the 32-element types, Q2_K and Q3_K in cpu_quant_dot_many_avx2.cpp).
#include <cstddef>
#include <cstdint>

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

// n f32 values (a multiple of the block size) to activation blocks: d = max|x| / 127,
// q = round(x / d). The 32-element d is rounded to f16 first, as llama.cpp stores it.
void quantize_activations_32(const float* x, ActivationBlock32* out, int64_t n);
void quantize_activations_256(const float* x, ActivationBlock256* out, int64_t n);

// Σ_i weight_row[i] * activation[i] over `cols` elements of one weight row in its stored type.
using RowDot = float (*)(const uint8_t* weight_row, const void* activation, int64_t cols);

// out[t * out_stride] = weight_row · activation t for t < n, the activation rows `stride` bytes
// apart: one row against several tokens, unpacking each weight block once (prefill).
using RowDotMany = void (*)(const uint8_t* weight_row, const uint8_t* activations, size_t stride,
                            int n, int64_t cols, float* out, size_t out_stride);

enum class ActivationFormat {
  Int8Blocks32,   // ActivationBlock32
  Int8Blocks256,  // ActivationBlock256
  F32,            // the activations as they are (block_size floats per block)
};

struct QuantDot {
  int block_size = 0;                 // elements per activation block: cols must be a multiple
  size_t activation_block_bytes = 0;  // sizeof the activation block
  RowDot dot = nullptr;
  RowDotMany dot_many = nullptr;  // nullptr: call `dot` per token
  ActivationFormat format = ActivationFormat::Int8Blocks32;
  int max_tokens = 0;  // > 0: larger batches take convert + Eigen instead (faster there)

  // Whether the kernel takes rows of `cols` elements in a batch of n tokens.
  bool applies(int64_t cols, int64_t n) const {
    return cols % block_size == 0 && (max_tokens == 0 || n <= max_tokens);
  }
};

// The kernel for `type`, or nullptr when the type has none (F32 and the types without kernels
// use convert + Eigen; F32 weights are read in place). `vectorized` false gives the portable
// scalar version; F16 and BF16 have a vectorized entry only in AVX2 builds (elsewhere convert +
// Eigen is faster than a scalar loop).
const QuantDot* quant_dot_for(GgmlType type, bool vectorized = true);

// Quantizes n values into the activation format of `kernel` (n a multiple of its block size;
// the F32 format is a copy).
void quantize_activations(const QuantDot& kernel, const float* x, void* out, int64_t n);

// Whether this build has vectorized kernels (AVX2).
bool quant_dot_is_vectorized();

namespace detail {
// The AVX2 kernels, or nullptr for a type without one (or a build without AVX2).
RowDot avx2_row_dot(GgmlType type);
RowDotMany avx2_row_dot_many(GgmlType type);
// Many-token AVX2 kernels for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K
// (cpu_quant_dot_many_avx2.cpp); each token's result is bit-identical to avx2_row_dot's.
RowDotMany avx2_block_dot_many(GgmlType type);

// F16 / BF16 weights with f32 activations (cpu_float_dot.cpp, cpu_float_dot_avx2.cpp); nullptr
// for other types. Elements per activation block of these kernels:
inline constexpr int kFloatDotBlock = 16;
RowDot scalar_float_row_dot(GgmlType type);
RowDot avx2_float_row_dot(GgmlType type);
RowDotMany avx2_float_row_dot_many(GgmlType type);
}  // namespace detail

}  // namespace moe::cpu
