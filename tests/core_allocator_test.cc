// The tensor pool (core/allocator.h): which requests a cached block serves, and what is
// taken from the system otherwise. The pool is process-wide, so each test reads deltas.
#include <gtest/gtest.h>

#include <cstddef>

#include "core/allocator.h"

namespace nmt {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(TensorPool, AFreedBlockServesTheSameSizeAgain) {
  for (size_t bytes : {size_t{1000}, size_t{300} * 1024, 3 * kMiB, 40 * kMiB + 123}) {
    void* a = pool_alloc(bytes);
    pool_free(a, bytes);
    const size_t before = pool_bytes_from_system();
    void* b = pool_alloc(bytes);
    EXPECT_EQ(b, a) << bytes;
    EXPECT_EQ(pool_bytes_from_system(), before) << bytes;
    pool_free(b, bytes);
  }
}

// A cached mapped block serves a smaller request only down to 4/5 of its size (a larger
// block would hold resident memory idle; core/allocator.cc); below that the request takes
// a block of its own.
TEST(TensorPool, ACachedMappedBlockServesSmallerRequestsDownToFourFifths) {
  const size_t big = 24 * kMiB;
  void* a = pool_alloc(big);
  pool_free(a, big);
  const size_t before = pool_bytes_from_system();
  void* b = pool_alloc(20 * kMiB);  // 24 <= 1.25 x 20
  EXPECT_EQ(b, a);
  EXPECT_EQ(pool_bytes_from_system(), before);
  pool_free(b, 20 * kMiB);
  void* c = pool_alloc(18 * kMiB);  // 24 > 1.25 x 18: a block of its own
  EXPECT_NE(c, a);
  EXPECT_GE(pool_bytes_from_system(), before + 18 * kMiB);
  pool_free(c, 18 * kMiB);
}

TEST(TensorPool, ALargerRequestTakesANewBlockFromTheSystem) {
  void* a = pool_alloc(4 * kMiB);
  pool_free(a, 4 * kMiB);
  const size_t before = pool_bytes_from_system();
  void* b = pool_alloc(9 * kMiB);
  EXPECT_GE(pool_bytes_from_system(), before + 9 * kMiB);
  pool_free(b, 9 * kMiB);
  pool_release();
  EXPECT_EQ(pool_bytes_held(), pool_bytes_in_use());
}

}  // namespace
}  // namespace nmt
