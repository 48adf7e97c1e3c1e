// SentenceRows: the per-sentence decoder-state tensors are taken again only when the
// sentence of some row changes, and then hold the right sentence for every group of rows.
#include <gtest/gtest.h>

#include "core/error.h"
#include "decoder/sentence_rows.h"

namespace nmt {
namespace {

// [3, 2]: sentence s holds {10 s, 10 s + 1}.
Tensor per_sentence() {
  Tensor t({3, 2});
  for (int64_t s = 0; s < 3; ++s) t[s * 2] = 10.0f * s, t[s * 2 + 1] = 10.0f * s + 1;
  return t;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); }

TEST(SentenceRows, StartsAsIdentity) {
  SentenceRows rows(3);
  EXPECT_EQ(rows.sentences(), (std::vector<int32_t>{0, 1, 2}));
  const Tensor t = per_sentence();
  EXPECT_EQ(rows.of_groups(t).data(), t.data());  // no copy
  EXPECT_EQ(rows.of_groups(std::vector<int>{5, 6, 7}), (std::vector<int>{5, 6, 7}));
  EXPECT_TRUE(rows.groups().rows_in_order());
}

TEST(SentenceRows, TakesTheGroupsSentencesWhenSentencesOfRowsChange) {
  SentenceRows rows(3);
  // Beam expansion: sentence 0 gets two rows, sentence 2 three, sentence 1 none.
  ASSERT_TRUE(rows.select({0, 0, 2, 2, 2}));
  EXPECT_EQ(rows.sentences(), (std::vector<int32_t>{0, 0, 2, 2, 2}));
  EXPECT_EQ(values(rows.of_groups(per_sentence())), (std::vector<float>{0, 1, 20, 21}));
  EXPECT_EQ(rows.of_groups(std::vector<int>{5, 6, 7}), (std::vector<int>{5, 7}));
  const Var v = rows.of_groups(leaf(per_sentence()));
  EXPECT_EQ(v->value.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(v->value), values(rows.of_groups(per_sentence())));
}

TEST(SentenceRows, GroupsRowsBySentence) {
  SentenceRows rows(4);
  QueryGroups g = rows.groups();
  EXPECT_EQ(rows.of_groups(std::vector<int>{10, 11, 12, 13}), (std::vector<int>{10, 11, 12, 13}));
  EXPECT_EQ(g.group, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(g.slot, (std::vector<int32_t>{0, 0, 0, 0}));
  EXPECT_EQ(g.groups, 4);
  EXPECT_EQ(g.slots, 1);
  // Sentence 1 finished, sentence 3 has three rows, sentence 0 one, sentence 2 two, interleaved.
  ASSERT_TRUE(rows.select({3, 0, 2, 3, 2, 3}));
  g = rows.groups();
  EXPECT_EQ(rows.of_groups(std::vector<int>{10, 11, 12, 13}), (std::vector<int>{13, 10, 12}));
  EXPECT_FALSE(g.rows_in_order());
  EXPECT_EQ(g.group, (std::vector<int32_t>{0, 1, 2, 0, 2, 0}));
  EXPECT_EQ(g.slot, (std::vector<int32_t>{0, 0, 0, 1, 1, 2}));
  EXPECT_EQ(g.groups, 3);
  EXPECT_EQ(g.slots, 3);
}

TEST(SentenceRows, RowsToGroupsAndBack) {
  SentenceRows rows(3);
  ASSERT_TRUE(rows.select({2, 0, 2}));
  const QueryGroups& g = rows.groups();  // groups: sentence 2 (rows 0, 2), sentence 0 (row 1); 2 slots
  Tensor r({3, 2});
  for (int64_t i = 0; i < 6; ++i) r[i] = static_cast<float>(i + 1);
  const Tensor grouped = g.to_groups(r);
  EXPECT_EQ(grouped.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(grouped), (std::vector<float>{1, 2, 5, 6, 3, 4, 0, 0}));  // the empty slot is zero
  EXPECT_EQ(values(g.to_rows(grouped)), values(r));
  EXPECT_THROW(g.to_groups(Tensor({2, 2})), Error);
  EXPECT_THROW(g.to_rows(Tensor({2, 3, 2})), Error);
  EXPECT_EQ(values(take_rows(per_sentence(), {2, 2, 0})), (std::vector<float>{20, 21, 20, 21, 0, 1}));
  EXPECT_THROW(take_rows(per_sentence(), {3}), Error);
}

TEST(SentenceRows, ReorderingHypothesesOfASentenceKeepsTheMap) {
  SentenceRows rows(3);
  rows.select({0, 0, 2, 2, 2});
  // Hypotheses swap and duplicate inside their sentence: nothing to gather again.
  EXPECT_FALSE(rows.select({1, 0, 4, 4, 2}));
  // A sentence loses a row: the rows after it now hold other sentences.
  EXPECT_TRUE(rows.select({0, 2, 3, 4}));
  EXPECT_EQ(rows.sentences(), (std::vector<int32_t>{0, 2, 2, 2}));
  // Down to one row of the first sentence: not the identity of 3 sentences.
  EXPECT_TRUE(rows.select({0}));
  EXPECT_EQ(values(rows.of_groups(per_sentence())), (std::vector<float>{0, 1}));
}

TEST(SentenceRows, RowOutOfRangeIsAnError) {
  SentenceRows rows(2);
  EXPECT_THROW(rows.select({0, 2}), Error);
  EXPECT_THROW(rows.select({-1}), Error);
}

}  // namespace
}  // namespace nmt
