// Rotary position embedding, adjacent pairs (2i, 2i+1), as core/backend/cpu_rope.cpp computes
// it: angle θ = p · base^(−2i/head_dim) in double, cos/sin rounded to the scalar type.
// Forward rotates by θ; backward rotates the gradient by −θ (the transpose of a rotation).
#include <cmath>
#include <vector>

#include "moe/train_ops.hpp"

namespace moe::train {

namespace {

// cos/sin of every (position, pair), rebuilt only when the sizes change (the trainer calls
// RoPE with the same sizes every time).
template <typename T>
struct AngleTable {
  int seq_len = -1, head_dim = -1;
  float base = 0;
  std::vector<T> cos, sin;

  void update(int new_seq_len, int new_head_dim, float new_base) {
    if (new_seq_len == seq_len && new_head_dim == head_dim && new_base == base) return;
    seq_len = new_seq_len;
    head_dim = new_head_dim;
    base = new_base;
    const int half = head_dim / 2;
    cos.resize(static_cast<size_t>(seq_len * half));
    sin.resize(cos.size());
    for (int pos = 0; pos < seq_len; ++pos) {
      for (int i = 0; i < half; ++i) {
        const double theta = pos * std::pow(static_cast<double>(base), -2.0 * i / head_dim);
        cos[static_cast<size_t>(pos * half + i)] = static_cast<T>(std::cos(theta));
        sin[static_cast<size_t>(pos * half + i)] = static_cast<T>(std::sin(theta));
      }
    }
  }
};

template <typename T>
void rotate(Matrix<T>& x, int n_heads, int head_dim, int seq_len, float base, T direction) {
  const int half = head_dim / 2;
  thread_local AngleTable<T> table;
  table.update(seq_len, head_dim, base);
  const std::vector<T>& cos_table = table.cos;
  const std::vector<T>& sin_table = table.sin;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const int pos = static_cast<int>(r % seq_len);
    const T* cos_row = cos_table.data() + static_cast<size_t>(pos * half);
    const T* sin_row = sin_table.data() + static_cast<size_t>(pos * half);
    T* row = x.row(r).data();
    for (int h = 0; h < n_heads; ++h) {
      T* head = row + static_cast<ptrdiff_t>(h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const T c = cos_row[i], s = direction * sin_row[i];
        const T a = head[2 * i], b = head[2 * i + 1];
        head[2 * i] = a * c - b * s;
        head[2 * i + 1] = a * s + b * c;
      }
    }
  }
}

}  // namespace

template <typename T>
void rope_forward(Matrix<T>& x, int n_heads, int head_dim, int seq_len, float base) {
  rotate<T>(x, n_heads, head_dim, seq_len, base, T(1));
}

template <typename T>
void rope_backward(Matrix<T>& dx, int n_heads, int head_dim, int seq_len, float base) {
  rotate<T>(dx, n_heads, head_dim, seq_len, base, T(-1));
}

template void rope_forward<float>(Matrix<float>&, int, int, int, float);
template void rope_forward<double>(Matrix<double>&, int, int, int, float);
template void rope_backward<float>(Matrix<float>&, int, int, int, float);
template void rope_backward<double>(Matrix<double>&, int, int, int, float);

}  // namespace moe::train
