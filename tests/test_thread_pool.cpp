// The CPU backend's fork-join pool (core/util/thread_pool.cpp): every task runs exactly once per
// run, on a valid worker index, whether the pool threads were spinning or asleep when the run
// started; a task's exception reaches the caller and leaves the pool usable.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "moe/thread_pool.hpp"

namespace {

// Runs n_tasks tasks and checks that each ran once on a worker in [0, pool.size()).
void expect_each_task_once(moe::ThreadPool& pool, int n_tasks) {
  std::vector<std::atomic<int>> runs(static_cast<size_t>(n_tasks));
  std::atomic<int> bad_workers{0};
  pool.run(n_tasks, [&](int task, int worker) {
    runs[static_cast<size_t>(task)].fetch_add(1);
    if (worker < 0 || worker >= pool.size()) bad_workers.fetch_add(1);
  });
  for (int task = 0; task < n_tasks; ++task)
    ASSERT_EQ(runs[static_cast<size_t>(task)].load(), 1) << "task " << task << " of " << n_tasks;
  EXPECT_EQ(bad_workers.load(), 0);
}

TEST(ThreadPool, EveryTaskRunsOnceForAnyPoolAndTaskCount) {
  for (int n_threads : {1, 2, 3, 5}) {
    moe::ThreadPool pool(n_threads);
    EXPECT_EQ(pool.size(), n_threads);
    for (int n_tasks : {0, 1, 2, 3, 7, 64, 1000}) expect_each_task_once(pool, n_tasks);
  }
}

TEST(ThreadPool, ManyShortRunsInARow) {
  moe::ThreadPool pool(2);
  int64_t total = 0;  // written only by the caller between runs
  std::vector<int64_t> per_task(8);
  constexpr int kRuns = 5000;
  for (int run = 0; run < kRuns; ++run) {
    pool.run(8, [&](int task, int) { per_task[static_cast<size_t>(task)] = run + task; });
    for (int64_t value : per_task) total += value;
  }
  // Σ_run Σ_task (run + task) = 8 Σ run + kRuns Σ task
  EXPECT_EQ(total, 8 * (int64_t{kRuns} * (kRuns - 1) / 2) + kRuns * 28);
}

TEST(ThreadPool, WorkersWakeFromSleep) {
  moe::ThreadPool pool(4);
  for (int round = 0; round < 5; ++round) {
    // Long enough for every thread to give up spinning and sleep.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    expect_each_task_once(pool, 100);
  }
}

TEST(ThreadPool, SlowWorkerMakesTheCallerWait) {
  moe::ThreadPool pool(2);
  std::atomic<int> finished{0};
  // The caller runs out of tasks long before the slow ones end, so it must sleep and be woken.
  pool.run(4, [&](int, int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    finished.fetch_add(1);
  });
  EXPECT_EQ(finished.load(), 4);
}

TEST(ThreadPool, TaskExceptionReachesTheCallerAndThePoolStaysUsable) {
  moe::ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    EXPECT_THROW(pool.run(50,
                          [](int task, int) {
                            if (task == 17) throw std::runtime_error("task 17 failed");
                          }),
                 std::runtime_error);
    expect_each_task_once(pool, 50);
  }
}

}  // namespace
