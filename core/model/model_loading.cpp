#include "moe/model_loading.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace moe {

namespace {

// A value in kB from /proc/meminfo ("MemAvailable:  123456 kB"), in bytes; 0 if unreadable.
uint64_t meminfo_bytes(const std::string& field) {
  std::ifstream meminfo("/proc/meminfo");
  std::string name;
  uint64_t kilobytes = 0;
  std::string unit;
  while (meminfo >> name >> kilobytes >> unit) {
    if (name == field + ":") return kilobytes * 1024;
  }
  return 0;
}

constexpr uint64_t kProgressStepBytes = 8ull << 20;  // report (and allow cancel) every 8 MB

}  // namespace

bool MemoryEstimate::exceeds_memory() const {
  return memory_available_bytes > 0 && weight_bytes + kv_cache_bytes > memory_available_bytes;
}

std::string MemoryEstimate::summary() const {
  std::ostringstream out;
  out << human_bytes(weight_bytes) << " of weights + " << human_bytes(kv_cache_bytes)
      << " KV cache (" << n_ctx << " positions)";
  if (memory_available_bytes > 0) out << "; " << human_bytes(memory_available_bytes) << " available";
  return out.str();
}

MemoryEstimate estimate_memory(const Model& model, int n_ctx) {
  const ModelConfig& config = model.config();
  MemoryEstimate estimate;
  estimate.file_bytes = model.file().file_size();
  for (const gguf::TensorInfo& tensor : model.file().tensors()) estimate.weight_bytes += tensor.n_bytes;
  estimate.n_ctx = n_ctx > 0 ? n_ctx : std::min(config.n_ctx_train, 4096);
  const uint64_t per_position = static_cast<uint64_t>(config.n_head_kv) *
                                static_cast<uint64_t>(config.head_dim + config.head_dim_v) *
                                sizeof(float) * static_cast<uint64_t>(config.n_layer);
  estimate.kv_cache_bytes = per_position * static_cast<uint64_t>(estimate.n_ctx);
  estimate.memory_available_bytes = meminfo_bytes("MemAvailable");
  estimate.memory_total_bytes = meminfo_bytes("MemTotal");
  return estimate;
}

LoadResult load_model_with_progress(const std::filesystem::path& path, int n_ctx,
                                    const LoadProgress& progress) {
  LoadResult result;
  result.model = Model::load(path);  // maps and validates; reads only the header pages
  result.estimate = estimate_memory(*result.model, n_ctx);
  const uint64_t total = result.estimate.weight_bytes;
  if (result.estimate.exceeds_memory()) {
    result.warning = path.filename().string() + " needs " + result.estimate.summary() +
                     ": it opens through mmap, but pages will be read from disk again and again, "
                     "so every token will be slow.";
    if (progress && !progress(total, total)) throw LoadCancelled();
    return result;
  }

  // Touch one byte per page so the kernel reads the weights now, in file order.
  const size_t page = static_cast<size_t>(std::max(4096L, sysconf(_SC_PAGESIZE)));
  uint64_t done = 0, next_report = 0;
  volatile uint8_t sink = 0;
  for (const gguf::TensorInfo& tensor : result.model->file().tensors()) {
    const uint8_t* data = tensor.data;
    for (uint64_t offset = 0; offset < tensor.n_bytes; offset += page) {
      sink = sink ^ data[offset];
      const uint64_t step = std::min<uint64_t>(page, tensor.n_bytes - offset);
      done += step;
      if (progress && done >= next_report) {
        if (!progress(done, total)) throw LoadCancelled();
        next_report = done + kProgressStepBytes;
      }
    }
  }
  if (progress && !progress(total, total)) throw LoadCancelled();
  return result;
}

}  // namespace moe
