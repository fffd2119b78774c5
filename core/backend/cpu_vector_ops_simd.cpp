// cpu_vector_ops.hpp's operations with 8-lane FMA, compiled once per SIMD level.
#include "cpu_simd_helpers.hpp"
#include "cpu_vector_ops.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

float vector_dot(const float* a, const float* b, int64_t n) {
  __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    low = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), low);
    high = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), high);
  }
  float sum = horizontal_sum(_mm256_add_ps(low, high));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void vector_axpy(float alpha, const float* x, float* y, int64_t n) {
  const __m256 scale = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(scale, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace moe::cpu::detail::MOE_SIMD_NS
