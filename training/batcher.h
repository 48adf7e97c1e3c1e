// Mini-batches for training: each epoch shuffles the corpus, reads it maxi-batch by
// maxi-batch, sorts each maxi-batch by source then target length (so that most
// mini-batches hold sources of one exact length: the RNN encoder then runs one
// primitive per batch) and cuts it into mini-batches of at most `mini_batch_words`
// target tokens, whose order is shuffled again.
//
// An epoch's batches are a pure function of (seed, epoch), so a position
// (epoch, batch index) is all a checkpoint needs to resume exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "training/corpus.h"

namespace nmt {

struct BatchPosition {
  int64_t epoch = 1;  // 1-based
  int64_t index = 0;  // next batch within the epoch
};

class Batcher {
 public:
  Batcher(const ParallelCorpus& corpus, int64_t mini_batch_words, int maxi_batch, uint64_t seed);
  // The sentence indices of the next batch; advances the position (to the next epoch
  // after the last batch, setting *new_epoch).
  std::vector<int32_t> next(bool* new_epoch = nullptr);
  const BatchPosition& position() const { return position_; }
  void set_position(const BatchPosition& p);
  size_t batches_in_epoch() { ensure_epoch(); return epoch_batches_.size(); }

 private:
  void ensure_epoch();
  const ParallelCorpus& corpus_;
  int64_t mini_batch_words_;
  int maxi_batch_;
  uint64_t seed_;
  BatchPosition position_;
  int64_t built_epoch_ = 0;
  std::vector<std::vector<int32_t>> epoch_batches_;
};

}  // namespace nmt
