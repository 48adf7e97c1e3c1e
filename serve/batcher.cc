#include "serve/batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "core/context.h"

namespace nmt::serve {
namespace {

// Requests answered by one search: the same model and the same per-request options (the
// others are the server's, the same for all).
bool same_batch(const Job& a, const Job& b) {
  return a.model == b.model && a.search.beam_size == b.search.beam_size && a.search.n_best == b.search.n_best &&
         a.search.normalize == b.search.normalize && a.search.keep_alignment == b.search.keep_alignment;
}

}  // namespace

Batcher::Batcher(BatcherOptions options, std::function<void()> on_drained)
    : options_(std::move(options)), on_drained_(std::move(on_drained)), thread_([this] { loop(); }) {}

Batcher::~Batcher() {
  close();
  if (thread_.joinable()) thread_.join();
}

bool Batcher::submit(Job& job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || queue_.size() >= options_.queue_capacity) return false;
    job.queued = std::chrono::steady_clock::now();
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void Batcher::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  wake_.notify_one();
}

size_t Batcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

// Waits for the oldest job's batch to fill or its wait to end (at once when closing), then
// takes the oldest job and every later one of its batch, up to max_batch sentences.
std::vector<Job> Batcher::take_batch(std::unique_lock<std::mutex>& lock) {
  auto batch_sentences = [&] {
    size_t n = 0;
    for (const Job& j : queue_)
      if (same_batch(j, queue_.front())) n += j.sources.size();
    return n;
  };
  const auto deadline = queue_.front().queued + options_.batch_wait;
  wake_.wait_until(lock, deadline, [&] { return closed_ || batch_sentences() >= options_.max_batch; });
  std::vector<Job> batch;
  batch.push_back(std::move(queue_.front()));
  queue_.pop_front();
  size_t sentences = batch.front().sources.size();
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (same_batch(*it, batch.front()) && sentences < options_.max_batch) {
      sentences += it->sources.size();
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return batch;
}

void Batcher::translate(std::vector<Job>& batch) {
  std::vector<MemberSources> sources;
  for (const Job& j : batch) sources.insert(sources.end(), j.sources.begin(), j.sources.end());
  const ServedModel& model = *batch.front().model;
  TranslateOptions opt = options_.translate;
  opt.search = batch.front().search;
  opt.search.shortlist = model.shortlist.get();
  std::vector<Translation> results;
  std::string error;
  try {
    results = translate_ids(*model.loaded.ensemble, sources, opt);
  } catch (const std::exception& e) {
    error = e.what();
  }
  size_t first = 0;
  for (Job& j : batch) {
    std::vector<Translation> mine;
    if (error.empty()) {
      mine.assign(std::make_move_iterator(results.begin() + first),
                  std::make_move_iterator(results.begin() + first + j.sources.size()));
      first += j.sources.size();
    }
    j.done(std::move(mine), error);
  }
}

void Batcher::loop() {
  // OpenMP threads are set per thread: this one gets the server's.
  Context::get().set_threads(options_.threads);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) break;  // closed and drained
    std::vector<Job> batch = take_batch(lock);
    lock.unlock();
    translate(batch);
    lock.lock();
  }
  lock.unlock();
  if (on_drained_) on_drained_();
}

}  // namespace nmt::serve
