#pragma once
// f32 vector operations for the attention of one decoded token (private to the CPU backend):
// a dot product per cached key and a scaled add per cached value. Eigen would do them, but the
// core is built for the x86-64 baseline, where Eigen only has SSE2; these are compiled per SIMD
// level (cpu_vector_ops_simd.cpp) and chosen at run time like the matmul kernels.
#include <cstdint>

#include "moe/cpu_level.hpp"

namespace moe::cpu {

struct VectorOps {
  float (*dot)(const float* a, const float* b, int64_t n);           // Σ a_i b_i
  void (*axpy)(float alpha, const float* x, float* y, int64_t n);    // y += alpha x
};

// The operations of `level` (the scalar ones for Scalar); throws for a level this CPU lacks.
const VectorOps& vector_ops(SimdLevel level = active_simd_level());

namespace detail {
#define MOE_DECLARE_SIMD_VECTOR_OPS(level)                          \
  namespace level {                                                 \
  float vector_dot(const float* a, const float* b, int64_t n);      \
  void vector_axpy(float alpha, const float* x, float* y, int64_t n); \
  }
MOE_DECLARE_SIMD_VECTOR_OPS(avx2)
MOE_DECLARE_SIMD_VECTOR_OPS(avx_vnni)
MOE_DECLARE_SIMD_VECTOR_OPS(avx512_vnni)
#undef MOE_DECLARE_SIMD_VECTOR_OPS
}  // namespace detail

}  // namespace moe::cpu
