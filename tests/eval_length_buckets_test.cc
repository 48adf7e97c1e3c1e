// eval/length_buckets.h: BLEU per source-length bucket.
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/length_buckets.h"

namespace nmt {
namespace {

TEST(EvalLengthBuckets, GroupsBySourceWords) {
  // Buckets of 3 source words: 1-3 (with the empty source), 4-6, 7-9. Hypotheses are
  // chosen so that each bucket's BLEU is known:
  //   1-3: three perfect 4-token lines -> 100
  //   4-6: no token in common -> 0
  //   7-9: "the the the the" vs "the cat" -> 15.9736 (derived in eval_bleu_test.cc)
  const std::vector<std::string> src = {"one two", "", "a b c d", "1 2 3 4 5 6 7", "x"};
  const std::vector<std::string> hyp = {"w x y z", "p q r s", "foo bar baz qux", "the the the the", "k l m n"};
  const std::vector<std::string> ref = {"w x y z", "p q r s", "one two three four", "the cat", "k l m n"};
  const auto buckets = bleu_by_source_length(src, hyp, ref, 3);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].min_words, 1);
  EXPECT_EQ(buckets[0].max_words, 3);
  EXPECT_EQ(buckets[0].sentences, 3);
  EXPECT_DOUBLE_EQ(buckets[0].bleu.score, 100.0);
  EXPECT_EQ(buckets[0].bleu.hyp_len, 12);
  EXPECT_EQ(buckets[1].min_words, 4);
  EXPECT_EQ(buckets[1].max_words, 6);
  EXPECT_EQ(buckets[1].sentences, 1);
  EXPECT_EQ(buckets[1].bleu.score, 0.0);
  EXPECT_EQ(buckets[2].min_words, 7);
  EXPECT_EQ(buckets[2].max_words, 9);
  EXPECT_NEAR(buckets[2].bleu.score, 15.973577606156812, 1e-6);

  // The buckets partition the corpus: their lengths add up to the corpus's.
  const auto all = corpus_bleu(hyp, ref);
  int64_t hyp_len = 0, ref_len = 0;
  for (const auto& b : buckets) hyp_len += b.bleu.hyp_len, ref_len += b.bleu.ref_len;
  EXPECT_EQ(hyp_len, all.hyp_len);
  EXPECT_EQ(ref_len, all.ref_len);
}

TEST(EvalLengthBuckets, OneBucketEqualsCorpusBleu) {
  const std::vector<std::string> src = {"a b", "c d e", "f"};
  const std::vector<std::string> hyp = {"The dog bit the man.", "It wasn't surprising.",
                                        "The man had just bitten him."};
  const std::vector<std::string> ref = {"The dog bit the man.", "It was not unexpected.", "The man bit him first."};
  const auto buckets = bleu_by_source_length(src, hyp, ref, 100);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].sentences, 3);
  EXPECT_DOUBLE_EQ(buckets[0].bleu.score, corpus_bleu(hyp, ref).score);
}

TEST(EvalLengthBuckets, BadInputThrows) {
  EXPECT_THROW(bleu_by_source_length({"a"}, {"a"}, std::vector<std::string>{"a"}, 0), InputError);
  EXPECT_THROW(bleu_by_source_length({"a", "b"}, {"a"}, std::vector<std::string>{"a"}, 5), InputError);
  EXPECT_THROW(bleu_by_source_length({"a"}, {"a"}, std::vector<std::string>{"a", "b"}, 5), InputError);
}

}  // namespace
}  // namespace nmt
