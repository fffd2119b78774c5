// Portable versions of cpu_vector_ops.hpp and the choice per SIMD level.
#include "cpu_vector_ops.hpp"

namespace moe::cpu {

namespace {

float scalar_dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void scalar_axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

const VectorOps& vector_ops(SimdLevel level) {
  require_cpu_support(level);
  static const VectorOps scalar{scalar_dot, scalar_axpy};
#if MOESCOPE_X86_SIMD_LEVELS
  static const VectorOps avx2{detail::avx2::vector_dot, detail::avx2::vector_axpy};
  static const VectorOps avx_vnni{detail::avx_vnni::vector_dot, detail::avx_vnni::vector_axpy};
  static const VectorOps avx512_vnni{detail::avx512_vnni::vector_dot,
                                     detail::avx512_vnni::vector_axpy};
  switch (level) {
    case SimdLevel::Avx2:
      return avx2;
    case SimdLevel::AvxVnni:
      return avx_vnni;
    case SimdLevel::Avx512Vnni:
      return avx512_vnni;
    case SimdLevel::Scalar:
      break;
  }
#endif
  return scalar;
}

}  // namespace moe::cpu
