// Fast F16/BF16 -> f32 conversion of weight rows, the inner loop of every F16/BF16 matmul.
// ggml_types' per-value conversion is exact but branchy; these give the same values faster.
#include <bit>

#include "cpu_kernels.hpp"
#include "moe/little_endian.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MOE_HAVE_X86 1
#endif

namespace moe::cpu {

// Branch-free IEEE half -> float: move exponent and mantissa into place, rescale by 2^112
// (which also turns half subnormals into the right float), then restore inf/NaN and the sign.
void f16_row_to_f32_portable(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t half = load_u16(src + 2 * i);
    const uint32_t magnitude = static_cast<uint32_t>(half & 0x7fffu) << 13;
    float value = std::bit_cast<float>(magnitude) * 0x1.0p112f;
    uint32_t bits = std::bit_cast<uint32_t>(value);
    bits |= (half & 0x7c00u) == 0x7c00u ? 0x7f800000u : 0u;  // inf / NaN keep all exponent bits
    bits |= static_cast<uint32_t>(half & 0x8000u) << 16;
    dst[i] = std::bit_cast<float>(bits);
  }
}

namespace {

#ifdef MOE_HAVE_X86
// The F16C instruction converts 8 halves at once; compiled for it, used only where the CPU has it.
__attribute__((target("avx,f16c"))) void f16_to_f32_f16c(const uint8_t* src, float* dst,
                                                         int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i halves = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(halves));
  }
  if (i < n) f16_row_to_f32_portable(src + 2 * i, dst + i, n - i);
}

bool cpu_has_f16c() {
  static const bool has = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return has;
}
#endif

}  // namespace

void f16_row_to_f32(const uint8_t* src, float* dst, int64_t n) {
#ifdef MOE_HAVE_X86
  if (cpu_has_f16c()) {
    f16_to_f32_f16c(src, dst, n);
    return;
  }
#endif
  f16_row_to_f32_portable(src, dst, n);
}

void bf16_row_to_f32(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    dst[i] = std::bit_cast<float>(static_cast<uint32_t>(load_u16(src + 2 * i)) << 16);
  }
}

}  // namespace moe::cpu
