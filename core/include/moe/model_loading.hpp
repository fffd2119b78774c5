#pragma once
// Loading a model file with a memory estimate, progress and cancellation.
//
// Model::load maps the file; nothing is read until a page is touched. For a file that fits in
// memory, load_model_with_progress then touches every weight page once, so the first prompt
// does not stall on disk reads and the user sees how far loading has come. A file larger than
// the memory available is not paged in (that would only evict itself): it opens through mmap
// with a warning and pages come in as the forward pass needs them.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "moe/error.hpp"
#include "moe/human_units.hpp"
#include "moe/model.hpp"

namespace moe {

// Thrown when a progress callback asked to stop. The previous model (if any) is untouched.
class LoadCancelled : public Error {
public:
  LoadCancelled() : Error("loading was cancelled") {}
};

struct MemoryEstimate {
  uint64_t file_bytes = 0;
  uint64_t weight_bytes = 0;          // tensor data, mapped from the file
  uint64_t kv_cache_bytes = 0;        // f32 keys and values for `n_ctx` positions
  int n_ctx = 0;
  uint64_t memory_available_bytes = 0;  // MemAvailable from /proc/meminfo (0: unknown)
  uint64_t memory_total_bytes = 0;
  // Weights + KV cache exceed the memory available: it still opens (mmap), but slowly.
  bool exceeds_memory() const;
  // "2.3 GB of weights + 64 MB KV cache (4096 positions); 18.1 GB available".
  std::string summary() const;
};

// From the model's header data and /proc/meminfo; touches no weight page. n_ctx <= 0 means the
// session default, min(n_ctx_train, 4096).
MemoryEstimate estimate_memory(const Model& model, int n_ctx);

// done/total in bytes of weights paged in; return false to cancel.
using LoadProgress = std::function<bool(uint64_t done_bytes, uint64_t total_bytes)>;

struct LoadResult {
  std::shared_ptr<const Model> model;
  MemoryEstimate estimate;
  std::string warning;  // non-empty when the model does not fit in memory
};

// Model::load, then pages the weights in with progress (see the top of this file).
// Throws moe::Error (bad file) or LoadCancelled.
LoadResult load_model_with_progress(const std::filesystem::path& path, int n_ctx,
                                    const LoadProgress& progress);


}  // namespace moe
