#include <vector>

#include "cpu_kernels.hpp"

namespace moe::cpu {

void apply_rope(RowMatrix& x, int n_heads, int head_dim, int offset, const RopeParams& rope,
                int pos0) {
  const int half = rope.n_rot / 2;
  std::vector<float> cos_table(static_cast<size_t>(half)), sin_table(static_cast<size_t>(half));
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    for (int i = 0; i < half; ++i) {
      rope.rotation(pos0 + static_cast<int>(t), i, cos_table[static_cast<size_t>(i)],
                    sin_table[static_cast<size_t>(i)]);
    }
    float* row = x.row(t).data();
    for (int h = 0; h < n_heads; ++h) {
      float* head = row + static_cast<ptrdiff_t>(h) * head_dim + offset;
      for (int i = 0; i < half; ++i) {
        // Adjacent pairs (2i, 2i+1) or split halves (i, i + n_rot/2).
        const bool adjacent = rope.pairing == RopePairing::Adjacent;
        float* a = adjacent ? head + 2 * i : head + i;
        float* b = adjacent ? head + 2 * i + 1 : head + i + half;
        const float c = cos_table[static_cast<size_t>(i)], s = sin_table[static_cast<size_t>(i)];
        const float a0 = *a, b0 = *b;
        *a = a0 * c - b0 * s;
        *b = a0 * s + b0 * c;
      }
    }
  }
}

}  // namespace moe::cpu
