#pragma once
// A small fork-join thread pool: run(n_tasks, fn) calls fn(task, worker) for every task on the
// pool's threads and the caller's, and returns when all are done. `worker` indexes per-thread
// scratch buffers. Used by the CPU backend and the trainer.
//
// One decoded token runs about a hundred small parallel steps of a few tens of microseconds,
// so a step's start and end must cost far less than that: workers and the caller spin on
// atomics for a while (about 100 µs) and touch the mutex and condition variables only to
// sleep when nothing came in that time, or to wake a thread that went to sleep.
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
  void record_error();

  std::vector<std::thread> threads_;
  // The current run, written by run() before it bumps generation_ (release).
  const Task* task_ = nullptr;
  int n_tasks_ = 0;
  alignas(64) std::atomic<uint64_t> generation_{0};  // bumped per run(); workers start on a change
  alignas(64) std::atomic<int> next_task_{0};
  alignas(64) std::atomic<int> running_workers_{0};  // pool threads still in the current run
  // Sleeping: a thread announces itself in sleeping_workers_ / caller_sleeping_ before it waits,
  // and the other side checks them after its own change (both sequentially consistent), so no
  // wake-up is lost.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  bool stopping_ = false;  // under mutex_
  std::exception_ptr error_;  // under mutex_
};

}  // namespace moe
