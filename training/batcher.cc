#include "training/batcher.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "core/error.h"
#include "core/random.h"

namespace nmt {
namespace {

template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.next_u64() % i]);
}

}  // namespace

BatchSort parse_batch_sort(const std::string& name) {
  if (name == "src") return BatchSort::kSource;
  if (name == "trg") return BatchSort::kTarget;
  if (name == "max") return BatchSort::kLonger;
  throw OptionError(cat("maxi-batch-sort must be src, trg or max, got '", name, "'"));
}

Batcher::Batcher(const ParallelCorpus& corpus, int64_t mini_batch_words, int maxi_batch, uint64_t seed, BatchSort sort)
    : corpus_(corpus), mini_batch_words_(mini_batch_words), maxi_batch_(maxi_batch), seed_(seed), sort_(sort) {
  // TrainOptions::validate refuses such options: reaching this is a bug in the caller.
  if (mini_batch_words < 1 || maxi_batch < 1)
    throw Error(cat("Batcher: mini_batch_words ", mini_batch_words, " and maxi_batch ", maxi_batch, " must be >= 1"));
}

void Batcher::set_position(const BatchPosition& p) {
  position_ = p;
  built_epoch_ = 0;
}

std::array<size_t, 3> Batcher::sort_key(int32_t i) const {
  const size_t s = corpus_.src[i].size(), t = corpus_.trg[i].size();
  switch (sort_) {
    case BatchSort::kTarget:
      return {t, s, 0};
    case BatchSort::kLonger:
      return {std::max(s, t), s, t};
    case BatchSort::kSource:
      break;
  }
  return {s, t, 0};
}

void Batcher::ensure_epoch() {
  if (built_epoch_ == position_.epoch) return;
  if (epoch_hook_) epoch_hook_(position_.epoch);
  Rng rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(position_.epoch));
  std::vector<int32_t> order(corpus_.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);
  epoch_batches_.clear();
  // A maxi-batch holds about maxi_batch mini-batches worth of target tokens.
  const int64_t maxi_words = mini_batch_words_ * maxi_batch_;
  size_t begin = 0;
  while (begin < order.size()) {
    size_t end = begin;
    int64_t words = 0;
    while (end < order.size() && (words < maxi_words || end == begin))
      words += static_cast<int64_t>(corpus_.trg[order[end++]].size()) + 1;
    std::stable_sort(order.begin() + begin, order.begin() + end,
                     [&](int32_t a, int32_t b) { return sort_key(a) < sort_key(b); });
    std::vector<int32_t> batch;
    int64_t batch_words = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t w = static_cast<int64_t>(corpus_.trg[order[i]].size()) + 1;
      // Cut when the batch is full, or (src) where the source length changes while the
      // batch is already half full (keeps most batches at one exact source length).
      const bool full = batch_words + w > mini_batch_words_;
      const bool length_change = sort_ == BatchSort::kSource && !batch.empty() &&
                                 batch_words * 2 >= mini_batch_words_ &&
                                 corpus_.src[order[i]].size() != corpus_.src[batch.back()].size();
      if (!batch.empty() && (full || length_change)) {
        epoch_batches_.push_back(std::move(batch));
        batch.clear();
        batch_words = 0;
      }
      batch.push_back(order[i]);
      batch_words += w;
    }
    if (!batch.empty()) epoch_batches_.push_back(std::move(batch));
    begin = end;
  }
  shuffle(epoch_batches_, rng);
  built_epoch_ = position_.epoch;
}

std::vector<int32_t> Batcher::next(bool* new_epoch) {
  ensure_epoch();
  std::vector<int32_t> batch = epoch_batches_.at(position_.index);
  if (new_epoch) *new_epoch = false;
  if (++position_.index >= static_cast<int64_t>(epoch_batches_.size())) {
    ++position_.epoch;
    position_.index = 0;
    if (new_epoch) *new_epoch = true;
  }
  return batch;
}

}  // namespace nmt
