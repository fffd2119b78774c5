// ParallelTasks, how the trainer runs a batch of tasks in parallel: the CPU backend's fork-join
// pool (moe/thread_pool.hpp) behind a small public face, plus size-determined chunking so that
// results never depend on the number of threads.
#include <algorithm>
#include <thread>

#include "moe/openblas_setup.hpp"
#include "moe/thread_pool.hpp"
#include "moe/train_ops.hpp"

namespace moe::train {

namespace {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

ParallelTasks::ParallelTasks(int n_threads)
    : pool_(std::make_unique<ThreadPool>(resolve_threads(n_threads))) {
  use_one_blas_thread_per_call();
}

ParallelTasks::~ParallelTasks() = default;

int ParallelTasks::size() const { return pool_->size(); }

void ParallelTasks::run(int n_tasks, const std::function<void(int task)>& fn) {
  pool_->run(n_tasks, [&fn](int task, int /*worker*/) { fn(task); });
}

int ParallelTasks::for_chunks(
    int64_t n, int64_t min_chunk,
    const std::function<void(int chunk, int64_t begin, int64_t end)>& fn) {
  if (n <= 0) return 0;
  constexpr int64_t kMaxChunks = 64;
  const int64_t n_chunks = std::clamp<int64_t>(n / std::max<int64_t>(min_chunk, 1), 1, kMaxChunks);
  run(static_cast<int>(n_chunks), [&](int chunk) {
    const int64_t begin = n * chunk / n_chunks;
    const int64_t end = n * (chunk + 1) / n_chunks;
    fn(chunk, begin, end);
  });
  return static_cast<int>(n_chunks);
}

}  // namespace moe::train
