#include "moe/ggml_gelu.hpp"

#include <cmath>
#include <cstdint>

#include "moe/ggml_types.hpp"

namespace moe {

const std::array<float, 65536>& ggml_gelu_table() {
  static const std::array<float, 65536> table = [] {
    std::array<float, 65536> values{};
    for (uint32_t bits = 0; bits < values.size(); ++bits) {
      const float h = f16_to_f32(static_cast<uint16_t>(bits));
      const float g =
          0.5f * h *
          (1.0f + std::tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
      values[bits] = f16_to_f32(f32_to_f16(g));
    }
    return values;
  }();
  return table;
}

float ggml_gelu(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return ggml_gelu_table()[f32_to_f16(x)];
}

}  // namespace moe
