#include "thread_pool.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace moe {

namespace {

constexpr int kSpinRounds = 2000;  // about 100 µs of pause instructions

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until `done()` or the spin budget is spent.
template <typename Done>
void spin_until(const Done& done) {
  for (int round = 0; round < kSpinRounds && !done(); ++round) relax();
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  for (int worker = 1; worker < n_threads; ++worker) {
    threads_.emplace_back([this, worker] { worker_loop(worker); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void ThreadPool::drain(int worker) {
  for (int task = next_task_.fetch_add(1); task < n_tasks_; task = next_task_.fetch_add(1)) {
    try {
      (*task_)(task, worker);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::run(int n_tasks, const Task& task) {
  if (n_tasks <= 0) return;
  if (n_tasks == 1 || threads_.empty()) {  // waking threads would cost more than it saves
    for (int index = 0; index < n_tasks; ++index) task(index, 0);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    n_tasks_ = n_tasks;
    next_task_.store(0);
    error_ = nullptr;
    busy_workers_.store(static_cast<int>(threads_.size()));
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  drain(0);
  spin_until([this] { return busy_workers_.load(std::memory_order_acquire) == 0; });
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_workers_.load() == 0; });
    task_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen_generation = 0;
  for (;;) {
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen_generation; });
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_.load();
    }
    drain(worker);
    {
      std::lock_guard lock(mutex_);
      --busy_workers_;
    }
    done_.notify_one();
  }
}

}  // namespace moe
