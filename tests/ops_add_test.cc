#include <gtest/gtest.h>

#include "core/error.h"
#include "gradcheck.h"
#include "ops/add.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

TEST(AddOp, ForwardMatchesLoop) {
  Tensor a = random_tensor({3, 4}, 1), b = random_tensor({3, 4}, 2);
  NoGradScope ng;
  Var c = add(leaf(a), leaf(b));
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_FLOAT_EQ(c->value[i], a[i] + b[i]);
}

TEST(AddOp, Gradient) {
  expect_gradients_match([](const std::vector<Var>& x) { return add(x[0], x[1]); },
                         {random_tensor({3, 4}, 1), random_tensor({3, 4}, 2)});
}

TEST(AddOp, UsedTwiceAccumulates) {
  expect_gradients_match([](const std::vector<Var>& x) { return add(x[0], x[0]); }, {random_tensor({5}, 3)});
}

TEST(AddOp, ShapeMismatchThrows) { EXPECT_THROW(add(leaf(Tensor({2, 3})), leaf(Tensor({3, 2}))), Error); }

}  // namespace nmt

#include "core/context.h"

namespace nmt {

TEST(PrimitiveCache, KeepsTheMostRecentlyUsedEntries) {
  Context& ctx = Context::get();
  ctx.clear_cache();
  int made = 0;
  auto get = [&](int i) {
    return ctx.cached<int>(cat("test-entry-", i), [&] {
      ++made;
      return i;
    });
  };
  EXPECT_EQ(get(0), 0);
  for (size_t i = 1; i <= Context::kCacheCapacity; ++i) {
    get(static_cast<int>(i));
    get(0);  // keep entry 0 recent
  }
  EXPECT_EQ(ctx.cache_size(), Context::kCacheCapacity);
  const int before = made;
  get(0);  // still cached
  EXPECT_EQ(made, before);
  get(1);  // the least recently used: evicted, made again
  EXPECT_EQ(made, before + 1);
  ctx.clear_cache();
}

}  // namespace nmt
