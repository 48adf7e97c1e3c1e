#include "core/worker_pool.h"

#include <algorithm>
#include <utility>

#include "core/context.h"
#include "core/error.h"

namespace nmt {

WorkerPool::WorkerPool(int workers, int threads_each) : threads_each_(threads_each) {
  if (workers < 1 || threads_each < 1)
    throw Error(cat("WorkerPool: need at least one worker of at least one thread, got ", workers, " x ", threads_each));
  threads_.reserve(workers);
  for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::loop() {
  Context::get().set_threads(threads_each_);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || next_ < n_; });
    if (stop_) return;
    const size_t i = next_++;
    ++running_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*job_)(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    --running_;
    if (error) {
      if (!error_) error_ = error;
      next_ = n_;  // start nothing more
    }
    if (next_ >= n_ && running_ == 0) done_.notify_all();
  }
}

void WorkerPool::run(size_t n, const std::function<void(size_t)>& job) {
  std::unique_lock<std::mutex> lock(mu_);
  job_ = &job;
  n_ = n;
  next_ = 0;
  error_ = nullptr;
  wake_.notify_all();
  done_.wait(lock, [&] { return next_ >= n_ && running_ == 0; });
  job_ = nullptr;
  n_ = next_ = 0;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

std::unique_ptr<WorkerPool> make_workers(int workers) {
  if (workers < 0) throw OptionError(cat("workers must be >= 0, got ", workers));
  const int threads = Context::get().threads();
  if (workers == 0) workers = threads;
  if (workers <= 1) return nullptr;
  return std::make_unique<WorkerPool>(workers, std::max(1, threads / workers));
}

}  // namespace nmt
