// Batching across clients: requests wait in a bounded queue, and one thread translates them
// a mini-batch at a time, so that many clients with a sentence each keep the model as busy
// as `nmt translate` on a file.
//
// The thread takes the oldest request and waits until it has been queued for `batch_wait`,
// or until the requests for the same model with the same search options hold `max_batch`
// sentences, then translates all of those together (translate_ids: sorted by length into
// mini-batches, on the workers) and answers each. A sentence's translation does not depend
// on its batch (translate/translator.h), so no client changes another's answer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve/models.h"
#include "translate/translator.h"

namespace nmt::serve {

struct Job {
  const ServedModel* model = nullptr;
  SearchOptions search;  // jobs are batched together only when these are equal
  std::vector<MemberSources> sources;
  // Called on the batcher's thread with one Translation per source, or with an error message.
  std::function<void(std::vector<Translation> results, const std::string& error)> done;
  std::chrono::steady_clock::time_point queued;
};

struct BatcherOptions {
  size_t queue_capacity = 1000;  // requests waiting; more are refused
  std::chrono::milliseconds batch_wait{5};
  size_t max_batch = 64;       // sentences that make a batch full
  TranslateOptions translate;  // mini-batch, int8, workers, ... (its search is replaced per batch)
  int threads = 1;             // OpenMP threads of the batcher's thread (a single worker's)
};

class Batcher {
 public:
  // Starts the thread; `on_drained` is called on it once close() was called and every
  // queued request has been answered.
  Batcher(BatcherOptions options, std::function<void()> on_drained);
  ~Batcher();  // close() and join
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `job`; false (and `job` untouched) when the queue is full or closed.
  bool submit(Job& job);
  // Refuses new jobs; the queued ones are still translated and answered.
  void close();
  size_t queued() const;

 private:
  void loop();
  std::vector<Job> take_batch(std::unique_lock<std::mutex>& lock);
  void translate(std::vector<Job>& batch);

  const BatcherOptions options_;
  const std::function<void()> on_drained_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace nmt::serve
