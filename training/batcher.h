// Mini-batches for training: each epoch shuffles the corpus, reads it maxi-batch by
// maxi-batch, sorts each maxi-batch by length and cuts it into mini-batches of at most
// `mini_batch_words` target tokens, whose order is shuffled again. The sort
// (--maxi-batch-sort):
//   src  source then target length, and a cut where the source length changes once a batch
//        is half full: most mini-batches hold sources of one exact length, so the RNN
//        encoder runs one primitive per batch; the target side carries the padding.
//   trg  target then source length: the mirror image.
//   max  the longer side, then source, then target length: both sides padded a little.
//        For an encoder that pads anyway (the transformer) this is the least padded work
//        (docs/design.md, "Padding never changes a result", has the measured padding).
//
// An epoch's batches are a pure function of (seed, epoch), so a position
// (epoch, batch index) is all a checkpoint needs to resume exactly.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "training/corpus.h"

namespace nmt {

struct BatchPosition {
  int64_t epoch = 1;  // 1-based
  int64_t index = 0;  // next batch within the epoch
};

enum class BatchSort { kSource, kTarget, kLonger };

// The maxi-batch-sort option: "src", "trg", "max" -> BatchSort; OptionError otherwise.
BatchSort parse_batch_sort(const std::string& name);

class Batcher {
 public:
  Batcher(const ParallelCorpus& corpus, int64_t mini_batch_words, int maxi_batch, uint64_t seed,
          BatchSort sort = BatchSort::kSource);
  // The sentence indices of the next batch; advances the position (to the next epoch
  // after the last batch, setting *new_epoch).
  std::vector<int32_t> next(bool* new_epoch = nullptr);
  const BatchPosition& position() const { return position_; }
  void set_position(const BatchPosition& p);
  // Called with the epoch's number before its batches are cut from the corpus, which it
  // may change (subword sampling re-encodes the sentences each epoch); a pure function of
  // the epoch, as the batches are.
  void set_epoch_hook(std::function<void(int64_t)> hook) { epoch_hook_ = std::move(hook); }
  size_t batches_in_epoch() {
    ensure_epoch();
    return epoch_batches_.size();
  }

 private:
  void ensure_epoch();
  std::array<size_t, 3> sort_key(int32_t i) const;  // pair i's place in a maxi-batch
  const ParallelCorpus& corpus_;
  int64_t mini_batch_words_;
  int maxi_batch_;
  uint64_t seed_;
  BatchSort sort_;
  BatchPosition position_;
  int64_t built_epoch_ = 0;
  std::vector<std::vector<int32_t>> epoch_batches_;
  std::function<void(int64_t)> epoch_hook_;
};

}  // namespace nmt
