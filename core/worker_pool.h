// A fixed set of threads that run numbered jobs side by side: translation's workers.
//
// Decoding runs many small products (64-320 rows), where two OpenMP threads splitting each
// oneDNN primitive spend much of their time at barriers. Like Marian's and CTranslate2's
// CPU workers, nmt translate can instead give each thread whole mini-batches and one share
// of the cores (`nmt bench translate` measures both). The threads live as long as the pool,
// so each keeps its own oneDNN stream and primitive cache (core/context.h) from one run()
// to the next.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nmt {

class WorkerPool {
 public:
  // `workers` threads (>= 1), each giving oneDNN and our loops `threads_each` (>= 1) OpenMP threads.
  WorkerPool(int workers, int threads_each);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()); }
  int threads_each() const { return threads_each_; }

  // Runs job(i) for every i in [0, n) on the workers, started in index order, and returns
  // when all have finished. If a job throws, jobs not yet started are skipped and the first
  // exception is rethrown here once the running ones are done. One run() at a time.
  void run(size_t n, const std::function<void(size_t)>& job);

 private:
  void loop();

  const int threads_each_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* job_ = nullptr;
  size_t n_ = 0, next_ = 0, running_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

// The workers for the workers option W (nmt translate, nmt score): W threads (0: one per
// OpenMP thread of the caller), each with an equal share of the caller's threads, at least
// one. Null for a single worker: then the caller's thread does the work with all of its
// threads. OptionError for W < 0.
std::unique_ptr<WorkerPool> make_workers(int workers);

}  // namespace nmt
