// Portable F16 / BF16 weight rows times f32 activations: the reference for the AVX2 kernels in
// cpu_float_dot_avx2.cpp. Each weight is widened to f32 exactly and the products are summed in
// f32 in element order.
//
// The activations stay f32. llama.cpp rounds them to the weight's type (f16 / bf16) first and
// multiplies in that type; keeping them f32 is more exact and costs nothing here (the weight
// row, not the activation, is the memory traffic that matters).
#include "cpu_quant_dot.hpp"
#include "moe/little_endian.hpp"

namespace moe::cpu::detail {

namespace {

template <float (*kWiden)(uint16_t)>
float dot_float(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const float*>(activation);
  float sum = 0.0f;
  for (int64_t i = 0; i < cols; ++i) sum += kWiden(load_u16(w + 2 * i)) * a[i];
  return sum;
}

}  // namespace

RowDot scalar_float_row_dot(GgmlType type) {
  switch (type) {
    case GgmlType::F16:
      return dot_float<f16_to_f32>;
    case GgmlType::BF16:
      return dot_float<bf16_to_f32>;
    default:
      return nullptr;
  }
}

}  // namespace moe::cpu::detail
