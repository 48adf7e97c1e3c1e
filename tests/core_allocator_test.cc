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

// A cached block serves a smaller request down to half its size (core/allocator.cc); below
// that the request takes a block of its own.
TEST(TensorPool, ACachedBlockServesSmallerRequestsDownToHalfItsSize) {
  for (size_t big : {size_t{64} * 1024, 24 * kMiB}) {
    pool_release();  // no cached block of another test's may serve these requests
    void* a = pool_alloc(big);
    pool_free(a, big);
    const size_t before = pool_bytes_from_system();
    void* b = pool_alloc(big / 2 + big / 16);  // big <= 2 x (request)
    EXPECT_EQ(b, a) << big;
    EXPECT_EQ(pool_bytes_from_system(), before) << big;
    pool_free(b, big / 2 + big / 16);
    void* c = pool_alloc(big / 2 - big / 8);  // big > 2 x (request): a block of its own
    EXPECT_NE(c, a) << big;
    EXPECT_GE(pool_bytes_from_system(), before + big / 2 - big / 8) << big;
    pool_free(c, big / 2 - big / 8);
  }
}

TEST(TensorPool, ALargerRequestTakesANewBlockFromTheSystem) {
  pool_release();
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
