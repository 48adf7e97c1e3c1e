// The training corpus with subword sampling (--sentencepiece-alphas): each epoch's
// encoding is a pure function of (seed, epoch), spells the same text, keeps the pairs, the
// source's </s> and the length bound; a side with alpha 0 keeps its most probable
// encoding; and the batcher cuts each epoch from that epoch's encoding.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "synthetic.h"
#include "tokenization/vocab.h"
#include "training/batcher.h"
#include "training/corpus.h"

namespace nmt {
namespace {

class SampledCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto pairs = testing::reversal_pairs(300, 3, 12, 21);
    testing::write_lines(dir_.path("train.src"), pairs.src);
    testing::write_lines(dir_.path("train.trg"), pairs.trg);
    VocabTrainOptions o;
    o.inputs = {dir_.path("train.src"), dir_.path("train.trg")};
    o.model_path = dir_.path("vocab.spm");
    o.vocab_size = testing::kReversalVocabSize;
    train_vocab(o);
    vocab_ = Vocab::load(o.model_path);
    text_ = read_parallel_text(dir_.path("train.src"), dir_.path("train.trg"));
    best_ = encode_parallel_corpus(text_, vocab_, vocab_, kMaxLength, true);
  }
  ParallelCorpus sample(const std::vector<float>& alphas, uint64_t seed, int64_t epoch) const {
    return sample_parallel_corpus(text_, best_, vocab_, vocab_, alphas, kMaxLength, seed, epoch);
  }

  static constexpr int kMaxLength = 12;  // the longest line's symbols
  testing::TempDir dir_{"nmt_sampled_corpus"};
  Vocab vocab_;
  ParallelText text_;
  ParallelCorpus best_;
};

TEST_F(SampledCorpusTest, EachEpochSpellsTheTextWithinTheLengthBound) {
  // Up to 12 symbols of one piece each: every pair fits, but samples that split the
  // pieces may not (counted below).
  ASSERT_EQ(best_.dropped_long, 0);
  const ParallelCorpus a = sample({0.3f, 0.3f}, 5, 1);
  ASSERT_EQ(a.size(), best_.size());
  EXPECT_EQ(a.lines, best_.lines);
  size_t changed_src = 0, changed_trg = 0, kept_long = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a.src[i].back(), Vocab::kEos);
    const std::vector<int32_t> src(a.src[i].begin(), a.src[i].end() - 1);
    EXPECT_EQ(vocab_.decode(src), text_.src[a.lines[i]]);
    EXPECT_EQ(vocab_.decode(a.trg[i]), text_.trg[a.lines[i]]);
    EXPECT_LE(static_cast<int>(src.size()), kMaxLength);
    EXPECT_LE(static_cast<int>(a.trg[i].size()), kMaxLength);
    changed_src += a.src[i] != best_.src[i];
    changed_trg += a.trg[i] != best_.trg[i];
    kept_long += vocab_.sample({text_.src[a.lines[i]]}, 0.3f, i)[0].size() > kMaxLength;
  }
  EXPECT_GT(changed_src, a.size() / 4);
  EXPECT_GT(changed_trg, a.size() / 4);
  EXPECT_GT(kept_long, 0u);  // samples over the bound do occur: the bound above held by design, not by chance
}

TEST_F(SampledCorpusTest, PureFunctionOfSeedAndEpoch) {
  const ParallelCorpus a = sample({0.3f, 0.3f}, 5, 2);
  const ParallelCorpus b = sample({0.3f, 0.3f}, 5, 2);
  EXPECT_EQ(a.src, b.src);
  EXPECT_EQ(a.trg, b.trg);
  EXPECT_NE(sample({0.3f, 0.3f}, 5, 3).src, a.src);
  EXPECT_NE(sample({0.3f, 0.3f}, 6, 2).trg, a.trg);
}

TEST_F(SampledCorpusTest, ASideWithAlphaZeroKeepsItsMostProbableEncoding) {
  const ParallelCorpus target_only = sample({0.f, 0.3f}, 5, 1);
  EXPECT_EQ(target_only.src, best_.src);
  EXPECT_NE(target_only.trg, best_.trg);
  const ParallelCorpus source_only = sample({0.3f, 0.f}, 5, 1);
  EXPECT_NE(source_only.src, best_.src);
  EXPECT_EQ(source_only.trg, best_.trg);
}

// The hook runs before an epoch's batches are cut, so the batches follow that epoch's
// lengths; and again after set_position, so a resumed batcher cuts the same batches.
TEST_F(SampledCorpusTest, BatcherCutsEachEpochFromItsOwnEncoding) {
  ParallelCorpus corpus = best_;
  std::vector<int64_t> hooked;
  const auto make = [&] {
    auto b = std::make_unique<Batcher>(corpus, 60, 10, 9);
    b->set_epoch_hook([&](int64_t epoch) {
      hooked.push_back(epoch);
      corpus = sample({0.3f, 0.3f}, 9, epoch);
    });
    return b;
  };
  auto batcher = make();
  std::vector<std::vector<int32_t>> epoch2;
  bool new_epoch = false;
  while (!new_epoch) batcher->next(&new_epoch);
  const size_t n = batcher->batches_in_epoch();
  for (size_t k = 0; k < n; ++k) {
    epoch2.push_back(batcher->next());
    int64_t words = 0;
    for (int32_t i : epoch2.back()) words += static_cast<int64_t>(corpus.trg[i].size()) + 1;
    EXPECT_TRUE(words <= 60 || epoch2.back().size() == 1) << words;
  }
  EXPECT_EQ(hooked, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(corpus.trg, sample({0.3f, 0.3f}, 9, 2).trg);

  auto resumed = make();
  resumed->set_position({2, 0});
  for (size_t k = 0; k < n; ++k) EXPECT_EQ(resumed->next(), epoch2[k]) << k;
}

}  // namespace
}  // namespace nmt
