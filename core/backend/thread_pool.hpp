#pragma once
// A small fork-join thread pool: run(n_tasks, fn) calls fn(task, worker) for every task on the
// pool's threads and the caller's, and returns when all are done. `worker` indexes per-thread
// scratch buffers. Private to the CPU backend.
//
// Workers and the caller spin for a short while (about 100 µs) before sleeping on a condition
// variable: one decoded token runs hundreds of small parallel steps, and waking a sleeping
// thread through the kernel for each would cost more than the step itself.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace moe {

class ThreadPool {
public:
  using Task = std::function<void(int task, int worker)>;

  // `n_threads` counts the calling thread: n_threads - 1 threads are started.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()) + 1; }
  // Not reentrant: one run() at a time. The first exception a task throws is rethrown here.
  void run(int n_tasks, const Task& task);

private:
  void worker_loop(int worker);
  void drain(int worker);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // Written under mutex_; atomic so that threads can spin on them before sleeping.
  std::atomic<uint64_t> generation_{0};  // bumped per run(); workers wake when it changes
  std::atomic<int> busy_workers_{0};
  bool stopping_ = false;
  const Task* task_ = nullptr;
  int n_tasks_ = 0;
  std::atomic<int> next_task_{0};
  std::exception_ptr error_;
};

}  // namespace moe
