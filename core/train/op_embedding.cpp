// Token embedding: a row lookup forward, a scatter-add backward.
#include <cstring>

#include "moe/train_ops.hpp"

namespace moe::train {

template <typename T>
void embedding_forward(const T* table, int n_embd, std::span<const int32_t> ids, Matrix<T>& out) {
  out.resize(static_cast<Eigen::Index>(ids.size()), n_embd);
  for (size_t t = 0; t < ids.size(); ++t) {
    std::memcpy(out.row(static_cast<Eigen::Index>(t)).data(),
                table + static_cast<size_t>(ids[t]) * static_cast<size_t>(n_embd),
                sizeof(T) * static_cast<size_t>(n_embd));
  }
}

// Serial and in row order: two rows with the same token add into the same table row.
template <typename T>
void embedding_backward(const Matrix<T>& dout, std::span<const int32_t> ids, T* dtable) {
  const Eigen::Index n_embd = dout.cols();
  for (size_t t = 0; t < ids.size(); ++t) {
    Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> row(
        dtable + static_cast<size_t>(ids[t]) * static_cast<size_t>(n_embd), n_embd);
    row += dout.row(static_cast<Eigen::Index>(t));
  }
}

template void embedding_forward<float>(const float*, int, std::span<const int32_t>, Matrix<float>&);
template void embedding_forward<double>(const double*, int, std::span<const int32_t>,
                                        Matrix<double>&);
template void embedding_backward<float>(const Matrix<float>&, std::span<const int32_t>, float*);
template void embedding_backward<double>(const Matrix<double>&, std::span<const int32_t>, double*);

}  // namespace moe::train
