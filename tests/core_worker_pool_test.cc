// WorkerPool: every job runs once, on the pool's threads with their thread count; a job's
// exception reaches run() and stops the jobs not yet started; the pool serves later runs.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/worker_pool.h"

namespace nmt {
namespace {

TEST(WorkerPool, RunsEveryJobOnceOnItsThreads) {
  WorkerPool pool(3, 2);
  EXPECT_EQ(pool.size(), 3);
  for (size_t n : {0u, 1u, 7u, 100u}) {
    std::vector<std::atomic<int>> runs(n);
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::atomic<int> wrong_threads{0};
    pool.run(n, [&](size_t i) {
      ++runs[i];
      if (Context::get().threads() != 2 || omp_get_max_threads() != 2) ++wrong_threads;
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "job " << i << " of " << n;
    EXPECT_EQ(wrong_threads.load(), 0);
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u) << "jobs run on the pool's threads, not the caller's";
    EXPECT_LE(ids.size(), 3u);
  }
}

TEST(WorkerPool, FirstErrorReachesRunAndLaterJobsAreSkipped) {
  WorkerPool pool(2, 1);
  std::atomic<int> started{0};
  try {
    pool.run(1000, [&](size_t i) {
      ++started;
      if (i == 3) throw InputError("job 3 failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // all 1,000 would take 0.5 s
    });
    FAIL() << "run() returned normally";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "job 3 failed");
  }
  EXPECT_LT(started.load(), 100);
  // The pool still works.
  std::atomic<int> sum{0};
  pool.run(10, [&](size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum.load(), 45);
}

TEST(WorkerPool, RejectsEmptyPools) {
  EXPECT_THROW(WorkerPool(0, 1), Error);
  EXPECT_THROW(WorkerPool(2, 0), Error);
}

}  // namespace
}  // namespace nmt
