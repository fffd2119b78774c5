// Weight views and the one matrix product everything else uses.
//
// Why weights are converted per row block instead of cached as f32 at load: a published MoE
// checkpoint stored as F16/BF16/Q8_0 would take 2-4x its file size as f32 (Mixtral Q8_0: 50 GB
// -> 190 GB), while converting a block of rows just before use costs about as much as the dot
// products on those rows and needs only a small per-thread buffer. A batch of tokens shares
// each converted block, so prefill amortizes the conversion; F32 weights are used in place.
#include <algorithm>
#include <cstring>

#include "cpu_kernels.hpp"
#include "cpu_quant_dot.hpp"
#include "moe/openblas_setup.hpp"
#include "moe/error.hpp"

namespace moe::cpu {

namespace {

size_t bytes_per_row(GgmlType type, int64_t cols) {
  const auto layout = type_layout(static_cast<uint32_t>(type));
  if (!layout) throw Error("unknown tensor type " + type_name(type));
  return static_cast<size_t>(cols) / layout->block_size * layout->block_bytes;
}

}  // namespace

WeightMatrix WeightMatrix::of(const gguf::TensorInfo& tensor) {
  WeightMatrix matrix;
  matrix.type = tensor.type;
  matrix.cols = static_cast<int64_t>(tensor.dims.at(0));
  matrix.rows = static_cast<int64_t>(tensor.n_elements) / matrix.cols;
  matrix.data = tensor.data;
  matrix.row_bytes = bytes_per_row(tensor.type, matrix.cols);
  return matrix;
}

WeightMatrix WeightMatrix::expert(const gguf::TensorInfo& tensor, int expert) {
  WeightMatrix matrix;
  matrix.type = tensor.type;
  matrix.cols = static_cast<int64_t>(tensor.dims.at(0));
  matrix.rows = static_cast<int64_t>(tensor.dims.at(1));
  matrix.row_bytes = bytes_per_row(tensor.type, matrix.cols);
  matrix.data = tensor.data +
                static_cast<size_t>(expert) * matrix.row_bytes * static_cast<size_t>(matrix.rows);
  return matrix;
}

void WeightMatrix::rows_to_f32(int64_t first, int64_t count, float* dst) const {
  const uint8_t* src = data + static_cast<size_t>(first) * row_bytes;
  const int64_t n = count * cols;
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      f16_row_to_f32(src, dst, n);
      return;
    case GgmlType::BF16:
      bf16_row_to_f32(src, dst, n);
      return;
    default:
      // Rows are whole blocks, so a run of rows is one contiguous run of blocks.
      dequantize_row(type, src, dst, n);
  }
}

std::span<const float> vector_f32(const gguf::TensorInfo& tensor, std::vector<float>& storage) {
  if (tensor.type == GgmlType::F32) {
    return {reinterpret_cast<const float*>(tensor.data), static_cast<size_t>(tensor.n_elements)};
  }
  storage.resize(static_cast<size_t>(tensor.n_elements));
  dequantize_row(tensor.type, tensor.data, storage.data(), static_cast<int64_t>(tensor.n_elements));
  return storage;
}

Kernels::Kernels(int n_threads, bool quantized_activations)
    : pool_(n_threads),
      quantized_activations_(quantized_activations),
      scratch_(static_cast<size_t>(std::max(1, n_threads))) {
  use_one_blas_thread_per_call();
}

void Kernels::matmul(const WeightMatrix& weight, const RowMatrix& in, RowMatrix& out) {
  const MatmulJob job{weight, &in, &out};
  matmul_many(std::span(&job, 1));
}

// Quantized weights take the integer path at every batch size: measured on an OLMoE-shaped
// Q4_K_M file (2 threads), it beat convert + Eigen at 1, 16, 128 and 512 tokens per call
// (about 19x, 4.6x, 1.7x and 1.6x).
void Kernels::matmul_many(std::span<const MatmulJob> jobs) {
  // Quantized jobs share one parallel run: their row blocks are tasks of one list.
  struct Plan {
    const MatmulJob* job;
    const QuantDot* kernel;
    size_t activation_offset;  // into activations_
    size_t activation_row_bytes;
    int64_t block;   // rows per task
    int first_task;  // tasks [first_task, first_task + tasks of this job)
  };
  std::vector<Plan> plans;
  plans.reserve(jobs.size());
  size_t activation_bytes = 0;
  int n_tasks = 0;
  for (const MatmulJob& job : jobs) {
    const WeightMatrix& weight = job.weight;
    const QuantDot* kernel = quantized_activations_ ? quant_dot_for(weight.type) : nullptr;
    if (kernel == nullptr || !kernel->applies(weight.cols, job.in->rows())) {
      if (quantized_activations_ &&
          (weight.type == GgmlType::F16 || weight.type == GgmlType::BF16)) {
        // llama.cpp's CPU arithmetic here too: activations rounded to the weights' type.
        RowMatrix rounded = *job.in;
        round_activations_for(weight.type, rounded.data(), rounded.size());
        matmul_converted(weight, rounded, *job.out);
      } else {
        matmul_converted(weight, *job.in, *job.out);
      }
      continue;
    }
    const int64_t n = job.in->rows();
    job.out->resize(n, weight.rows);
    if (n == 0) continue;
    Plan plan{&job,
              kernel,
              0,
              static_cast<size_t>(weight.cols / kernel->block_size) * kernel->activation_block_bytes,
              0,
              n_tasks};
    // An input that an earlier job reads in the same format is quantized once (q/k/v, an
    // expert's gate and up, all experts of a decoded token).
    const auto same_input = std::find_if(plans.begin(), plans.end(), [&](const Plan& other) {
      return other.job->in == job.in && other.kernel->format == kernel->format &&
             other.kernel->block_size == kernel->block_size && other.job->weight.cols == weight.cols;
    });
    if (same_input != plans.end()) {
      plan.activation_offset = same_input->activation_offset;
    } else {
      plan.activation_offset = activation_bytes;
      activation_bytes += static_cast<size_t>(n) * plan.activation_row_bytes;
    }
    // Blocks of rows small enough to balance the threads (at least kTasksPerThread per thread,
    // at most kMaxTaskBytes of weights, so that the threads finish close together even for the
    // output matrix); each row's bytes are read once and stay in cache while every token's
    // activations pass over them.
    constexpr int64_t kRowAlign = 4;
    constexpr int64_t kTasksPerThread = 8;
    constexpr int64_t kMaxTaskBytes = 128 * 1024;
    const int64_t target_blocks = kTasksPerThread * static_cast<int64_t>(pool_.size());
    int64_t block = (weight.rows + target_blocks - 1) / target_blocks;
    block = std::min(block, kMaxTaskBytes / static_cast<int64_t>(weight.row_bytes));
    plan.block = std::max<int64_t>(kRowAlign, (block + kRowAlign - 1) / kRowAlign * kRowAlign);
    n_tasks += static_cast<int>((weight.rows + plan.block - 1) / plan.block);
    plans.push_back(plan);
  }
  if (plans.empty()) return;

  // Each input quantized once, in the format its weights' kernel reads.
  activations_.resize(activation_bytes);
  for (size_t p = 0; p < plans.size(); ++p) {
    const Plan& plan = plans[p];
    const bool first_reader = std::none_of(plans.begin(), plans.begin() + static_cast<ptrdiff_t>(p),
                                           [&](const Plan& other) {
                                             return other.activation_offset == plan.activation_offset;
                                           });
    if (!first_reader) continue;
    const RowMatrix& in = *plan.job->in;
    for (int64_t t = 0; t < in.rows(); ++t) {
      quantize_activations(*plan.kernel, in.row(t).data(),
                           activations_.data() + plan.activation_offset +
                               static_cast<size_t>(t) * plan.activation_row_bytes,
                           plan.job->weight.cols);
    }
  }

  pool_.run(n_tasks, [&](int task, int) {
    // The last plan whose first task is at or before this one.
    const auto after = std::upper_bound(plans.begin(), plans.end(), task,
                                        [](int t, const Plan& plan) { return t < plan.first_task; });
    const Plan& plan = *(after - 1);
    const WeightMatrix& weight = plan.job->weight;
    const QuantDot& kernel = *plan.kernel;
    const int64_t n = plan.job->in->rows();
    const uint8_t* activations = activations_.data() + plan.activation_offset;
    RowMatrix& out = *plan.job->out;
    const int64_t first = (task - plan.first_task) * plan.block;
    const int64_t last = std::min(first + plan.block, weight.rows);
    for (int64_t r = first; r < last; ++r) {
      const uint8_t* row = weight.data + static_cast<size_t>(r) * weight.row_bytes;
      // dot_many for one token too, so a token's result never depends on the batch size.
      if (kernel.dot_many != nullptr) {
        kernel.dot_many(row, activations, plan.activation_row_bytes, static_cast<int>(n),
                        weight.cols, &out(0, r), static_cast<size_t>(weight.rows));
        continue;
      }
      for (int64_t t = 0; t < n; ++t) {
        out(t, r) = kernel.dot(row, activations + t * plan.activation_row_bytes, weight.cols);
      }
    }
  });
}

void Kernels::matmul_converted(const WeightMatrix& weight, const RowMatrix& in, RowMatrix& out) {
  const int64_t n = in.rows();
  out.resize(n, weight.rows);
  if (n == 0) return;

  // Enough blocks to balance the threads, each worth waking a thread for (kMinBlockWork
  // multiply-adds), and each block's f32 copy small enough to stay in cache.
  constexpr int64_t kRowAlign = 8;
  constexpr int64_t kMaxBlockFloats = 64 * 1024;
  constexpr int64_t kMinBlockWork = 64 * 1024;
  const int64_t target_blocks = 4 * static_cast<int64_t>(pool_.size());
  int64_t block = (weight.rows + target_blocks - 1) / target_blocks;
  block = std::max(block, kMinBlockWork / (n * weight.cols));
  block = std::min(block, std::max<int64_t>(kRowAlign, kMaxBlockFloats / weight.cols));
  block = std::max<int64_t>(kRowAlign, (block + kRowAlign - 1) / kRowAlign * kRowAlign);
  const int64_t n_blocks = (weight.rows + block - 1) / block;

  using ConstRowMap = Eigen::Map<const RowMatrix>;
  pool_.run(static_cast<int>(n_blocks), [&](int task, int worker) {
    const int64_t first = task * block;
    const int64_t count = std::min(block, weight.rows - first);
    const float* rows = nullptr;
    if (weight.type == GgmlType::F32) {
      rows = reinterpret_cast<const float*>(weight.data +
                                            static_cast<size_t>(first) * weight.row_bytes);
    } else {
      ScratchBuffer& buffer = scratch(worker);
      buffer.resize(static_cast<size_t>(count * weight.cols));
      weight.rows_to_f32(first, count, buffer.data());
      rows = buffer.data();
    }
    const ConstRowMap w(rows, count, weight.cols);
    if (n == 1) {
      out.row(0).segment(first, count).noalias() = (w * in.row(0).transpose()).transpose();
    } else {
      out.middleCols(first, count).noalias() = in * w.transpose();
    }
  });
}

}  // namespace moe::cpu
