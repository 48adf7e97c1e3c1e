// The training batcher: every pair once per epoch, batches within --mini-batch-words, the
// same batches for the same (seed, epoch), and the padding each --maxi-batch-sort leaves on
// a corpus whose two sides have correlated but unequal lengths (as real pairs do).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "decoder/decoder.h"
#include "encoder/encoder.h"
#include "training/batcher.h"
#include "training/trainer.h"

namespace nmt {
namespace {

// Source lengths 3..40; target = source * ratio + 1, the ratio 0.75..1.35 (peaked at 1.05,
// the sum of two uniform draws): like a translation's lengths.
ParallelCorpus correlated_corpus(int pairs) {
  ParallelCorpus c;
  Rng rng(7);
  for (int i = 0; i < pairs; ++i) {
    const int s = 3 + static_cast<int>(rng.next_u64() % 38);
    const double ratio = 0.75 + 0.3 * static_cast<double>(rng.next_u64() % 1000) / 1000.0 +
                         0.3 * static_cast<double>(rng.next_u64() % 1000) / 1000.0;
    const int t = 1 + static_cast<int>(s * ratio);
    c.src.emplace_back(s, 5);
    c.trg.emplace_back(t, 6);
  }
  return c;
}

struct Padding {
  double src = 0, trg = 0, both = 0;  // padded rows / real rows - 1
};

// One epoch's padding, counted on the batches the models are given (SourceBatch and
// TargetBatch: each side padded to its longest sentence; the target with its <s>/</s>).
Padding epoch_padding(const ParallelCorpus& c, BatchSort sort) {
  Batcher b(c, 500, 100, 3, sort);
  int64_t real_s = 0, real_t = 0, rows_s = 0, rows_t = 0;
  const size_t n = b.batches_in_epoch();
  for (size_t k = 0; k < n; ++k) {
    std::vector<std::vector<int32_t>> src, trg;
    for (int32_t i : b.next()) {
      src.push_back(c.src[i]);
      trg.push_back(c.trg[i]);
    }
    const SourceBatch sb = SourceBatch::from(src);
    const TargetBatch tb = TargetBatch::from(trg);
    for (int len : sb.lengths) real_s += len;
    real_t += tb.tokens;
    rows_s += sb.batch * sb.length;
    rows_t += tb.batch * tb.length;
  }
  return {static_cast<double>(rows_s) / real_s - 1, static_cast<double>(rows_t) / real_t - 1,
          static_cast<double>(rows_s + rows_t) / (real_s + real_t) - 1};
}

TEST(Batcher, EveryPairOncePerEpochWithinTheWordBudget) {
  const ParallelCorpus c = correlated_corpus(3000);
  for (BatchSort sort : {BatchSort::kSource, BatchSort::kTarget, BatchSort::kLonger}) {
    Batcher b(c, 500, 20, 3, sort);
    std::vector<int> seen(c.size(), 0);
    bool new_epoch = false;
    while (!new_epoch) {
      const std::vector<int32_t> batch = b.next(&new_epoch);
      int64_t words = 0;
      for (int32_t i : batch) {
        ++seen[i];
        words += static_cast<int64_t>(c.trg[i].size()) + 1;
      }
      EXPECT_TRUE(words <= 500 || batch.size() == 1) << words << " target words in " << batch.size() << " pairs";
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(c.size()));
    EXPECT_EQ(b.position().epoch, 2);
  }
}

TEST(Batcher, SameSeedAndEpochGiveTheSameBatches) {
  const ParallelCorpus c = correlated_corpus(1000);
  Batcher a(c, 300, 10, 9, BatchSort::kLonger), b(c, 300, 10, 9, BatchSort::kLonger);
  BatchPosition p;
  p.epoch = 3;
  p.index = 5;
  a.set_position(p);
  b.set_position(p);
  for (int k = 0; k < 20; ++k) EXPECT_EQ(a.next(), b.next());
}

TEST(Batcher, EachSortPadsWhereItSays) {
  const ParallelCorpus c = correlated_corpus(20000);
  const Padding src = epoch_padding(c, BatchSort::kSource);
  const Padding trg = epoch_padding(c, BatchSort::kTarget);
  const Padding max = epoch_padding(c, BatchSort::kLonger);
  // src and trg sort on one side: it is (almost) unpadded, the other side carries it.
  // (Here: src 0.3% / 9.8%, trg 11.7% / 1.2%, max 5.5% / 3.2%; on Multi30k's pieces, 11% over
  // both sides for src and 6% for max.)
  EXPECT_LT(src.src, 0.01);
  EXPECT_GT(src.trg, 0.05);
  EXPECT_LT(trg.trg, 0.02);
  EXPECT_GT(trg.src, 0.05);
  // max pads both sides a little, and less over both than either one-sided sort.
  EXPECT_LT(max.src, 0.08);
  EXPECT_LT(max.trg, 0.08);
  EXPECT_LT(max.both, 0.9 * src.both) << "max " << max.both << " src " << src.both;
  EXPECT_LT(max.both, 0.9 * trg.both) << "max " << max.both << " trg " << trg.both;
}

TEST(Batcher, SortNamesAndDefaults) {
  EXPECT_EQ(parse_batch_sort("src"), BatchSort::kSource);
  EXPECT_EQ(parse_batch_sort("trg"), BatchSort::kTarget);
  EXPECT_EQ(parse_batch_sort("max"), BatchSort::kLonger);
  try {
    parse_batch_sort("length");
    FAIL() << "no throw";
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("maxi-batch-sort must be src, trg or max, got 'length'"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(batch_sort_for("", "rnn"), BatchSort::kSource);
  EXPECT_EQ(batch_sort_for("", "transformer"), BatchSort::kLonger);
  EXPECT_EQ(batch_sort_for("trg", "transformer"), BatchSort::kTarget);
  EXPECT_THROW(batch_sort_for("bad", "rnn"), OptionError);
}

}  // namespace
}  // namespace nmt
