// training/distributed.h without mpirun: one process, rank 0 of 1, every collective a no-op;
// and the split of a batch across ranks by target tokens.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "training/distributed.h"

namespace nmt {
namespace {

// The shares of every rank, in rank order.
std::vector<std::vector<int32_t>> shares(const std::vector<int32_t>& batch, const std::vector<int64_t>& tokens,
                                         int ranks) {
  std::vector<std::vector<int32_t>> out;
  for (int r = 0; r < ranks; ++r) out.push_back(split_by_tokens(batch, tokens, r, ranks));
  return out;
}

std::vector<int32_t> joined(const std::vector<std::vector<int32_t>>& parts) {
  std::vector<int32_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

TEST(TrainingDistributedTest, SharesAreContiguousAndTheirUnionIsTheBatch) {
  const std::vector<int32_t> batch = {7, 3, 9, 1, 4, 8, 2};
  const std::vector<int64_t> tokens = {5, 5, 6, 6, 6, 7, 9};
  for (int ranks : {1, 2, 3, 4, 7}) EXPECT_EQ(joined(shares(batch, tokens, ranks)), batch) << ranks << " ranks";
}

TEST(TrainingDistributedTest, SharesBalanceTargetTokens) {
  // 44 tokens: 2 ranks take 21 and 23 (the middle sentence goes to the part holding its middle).
  const auto two = shares({0, 1, 2, 3, 4, 5, 6}, {5, 5, 5, 6, 6, 8, 9}, 2);
  EXPECT_EQ(two[0], (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(two[1], (std::vector<int32_t>{4, 5, 6}));
  const auto three = shares({0, 1, 2, 3, 4, 5}, {4, 4, 4, 4, 4, 4}, 3);
  EXPECT_EQ(three, (std::vector<std::vector<int32_t>>{{0, 1}, {2, 3}, {4, 5}}));
}

TEST(TrainingDistributedTest, FewerSentencesThanRanksLeaveSomeSharesEmpty) {
  const auto parts = shares({5, 6}, {3, 4}, 3);
  EXPECT_EQ(joined(parts), (std::vector<int32_t>{5, 6}));
  int empty = 0;
  for (const auto& p : parts) empty += p.empty();
  EXPECT_EQ(empty, 1);
  EXPECT_TRUE(joined(shares({}, {}, 3)).empty());
}

TEST(TrainingDistributedTest, WithoutMpirunThereIsOneProcessAndCollectivesChangeNothing) {
  if (started_by_mpirun()) GTEST_SKIP() << "run under mpirun";
  Distributed world;
  EXPECT_EQ(world.rank(), 0);
  EXPECT_EQ(world.size(), 1);
  EXPECT_FALSE(world.parallel());
  std::vector<float> g = {1.5f, -2.f};
  world.sum(g.data(), 2);
  EXPECT_EQ(g, (std::vector<float>{1.5f, -2.f}));
  std::string bytes = "abc";
  world.broadcast(bytes);
  EXPECT_EQ(bytes, "abc");
  EXPECT_NO_THROW(world.check_agreement({{"option seed", "1"}}));
}

}  // namespace
}  // namespace nmt
