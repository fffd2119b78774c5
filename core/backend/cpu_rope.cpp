#include <cmath>
#include <vector>

#include "cpu_kernels.hpp"

namespace moe::cpu {

void apply_rope(RowMatrix& x, int n_heads, int head_dim, int n_rot, RopePairing pairing, float base,
                int pos0) {
  const int half = n_rot / 2;
  // Angles in double: pos * base^(-2i/n_rot) loses ~1e-4 rad in f32 at long positions.
  std::vector<float> cos_table(static_cast<size_t>(half)), sin_table(static_cast<size_t>(half));
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const double pos = static_cast<double>(pos0 + t);
    for (int i = 0; i < half; ++i) {
      const double theta = pos * std::pow(static_cast<double>(base), -2.0 * i / n_rot);
      cos_table[static_cast<size_t>(i)] = static_cast<float>(std::cos(theta));
      sin_table[static_cast<size_t>(i)] = static_cast<float>(std::sin(theta));
    }
    float* row = x.row(t).data();
    for (int h = 0; h < n_heads; ++h) {
      float* head = row + static_cast<ptrdiff_t>(h) * head_dim;
      for (int i = 0; i < half; ++i) {
        // Adjacent pairs (2i, 2i+1) or split halves (i, i + n_rot/2).
        float* a = pairing == RopePairing::Adjacent ? head + 2 * i : head + i;
        float* b = pairing == RopePairing::Adjacent ? head + 2 * i + 1 : head + i + half;
        const float c = cos_table[static_cast<size_t>(i)], s = sin_table[static_cast<size_t>(i)];
        const float a0 = *a, b0 = *b;
        *a = a0 * c - b0 * s;
        *b = a0 * s + b0 * c;
      }
    }
  }
}

}  // namespace moe::cpu
