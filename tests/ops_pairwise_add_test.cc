#include <gtest/gtest.h>

#include "core/allocator.h"
#include "core/error.h"
#include "gradcheck.h"
#include "ops/pairwise_add.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

TEST(PairwiseAddOp, ForwardMatchesLoop) {
  Tensor q = random_tensor({2, 3, 4}, 1), k = random_tensor({2, 5, 4}, 2);
  NoGradScope ng;
  Var out = pairwise_add(leaf(q), leaf(k));
  ASSERT_EQ(out->value.shape(), (Shape{2, 3, 5, 4}));
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < 3; ++t)
      for (int s = 0; s < 5; ++s)
        for (int a = 0; a < 4; ++a)
          EXPECT_FLOAT_EQ(out->value[((n * 3 + t) * 5 + s) * 4 + a], q[(n * 3 + t) * 4 + a] + k[(n * 5 + s) * 4 + a]);
}

// The op is linear: central differences are exact up to float rounding of the sum.
TEST(PairwiseAddOp, Gradient) {
  expect_gradients_match([](const std::vector<Var>& x) { return pairwise_add(x[0], x[1]); },
                         {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 4}, 2)});
}

TEST(PairwiseAddOp, ShapeMismatchThrows) {
  EXPECT_THROW(pairwise_add(leaf(Tensor({2, 3, 4})), leaf(Tensor({2, 5, 3}))), Error);
  EXPECT_THROW(pairwise_add(leaf(Tensor({2, 3, 4})), leaf(Tensor({3, 5, 4}))), Error);
}

TEST(Allocator, ReusesFreedBlocksAndIsAligned) {
  void* a = pool_alloc(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  pool_free(a, 1000);
  void* b = pool_alloc(900);  // same size class or a cached block at most twice as large
  EXPECT_EQ(a, b);
  pool_free(b, 900);
  void* c = pool_alloc(100000);  // far larger: not the cached small block
  EXPECT_NE(a, c);
  pool_free(c, 100000);
}

TEST(Allocator, CachedBytesAreCapped) {
  pool_release();
  const size_t before = pool_bytes_held();
  // Allocate and free blocks of many different sizes (as batches of varying shapes
  // do): the pool must not keep them all.
  for (size_t mb = 1; mb <= 64; ++mb) {
    void* p = pool_alloc(mb << 20);
    pool_free(p, mb << 20);
  }
  EXPECT_LT(pool_bytes_held() - before, size_t{400} << 20);
  pool_release();
}

}  // namespace nmt
