#include "moe/thread_pool.hpp"

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

// Spins until `done()` or the spin budget is spent; returns done().
template <typename Done>
bool spin_until(const Done& done) {
  for (int round = 0; round < kSpinRounds; ++round) {
    if (done()) return true;
    relax();
  }
  return done();
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

void ThreadPool::record_error() {
  std::lock_guard lock(mutex_);
  if (!error_) error_ = std::current_exception();
}

void ThreadPool::drain(int worker) {
  const Task& task = *task_;
  const int n_tasks = n_tasks_;
  for (int index = next_task_.fetch_add(1, std::memory_order_relaxed); index < n_tasks;
       index = next_task_.fetch_add(1, std::memory_order_relaxed)) {
    try {
      task(index, worker);
    } catch (...) {
      record_error();
    }
  }
}

void ThreadPool::run(int n_tasks, const Task& task) {
  if (n_tasks <= 0) return;
  if (n_tasks == 1 || threads_.empty()) {  // waking threads would cost more than it saves
    for (int index = 0; index < n_tasks; ++index) task(index, 0);
    return;
  }
  task_ = &task;
  n_tasks_ = n_tasks;
  next_task_.store(0, std::memory_order_relaxed);
  running_workers_.store(static_cast<int>(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_seq_cst);  // publishes the fields above
  if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
    // Taking the mutex orders this with a worker between its check and its wait.
    { std::lock_guard lock(mutex_); }
    wake_.notify_all();
  }

  drain(0);
  const auto all_done = [this] { return running_workers_.load(std::memory_order_seq_cst) == 0; };
  if (!spin_until(all_done)) {
    std::unique_lock lock(mutex_);
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    done_.wait(lock, all_done);
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }
  task_ = nullptr;
  if (error_) {  // every worker is done with this run: nothing else touches error_ now
    std::exception_ptr error = error_;
    error_ = nullptr;
    std::rethrow_exception(error);
  }
}

void ThreadPool::worker_loop(int worker) {
  uint64_t seen_generation = 0;
  const auto new_run = [&] {
    return generation_.load(std::memory_order_seq_cst) != seen_generation;
  };
  for (;;) {
    if (!spin_until(new_run)) {
      std::unique_lock lock(mutex_);
      sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] { return stopping_ || new_run(); });
      sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
      if (stopping_) return;
    }
    seen_generation = generation_.load(std::memory_order_acquire);
    drain(worker);
    if (running_workers_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      { std::lock_guard lock(mutex_); }
      done_.notify_one();
    }
  }
}

}  // namespace moe
