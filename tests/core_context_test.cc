// Context: making a thread's context flushes subnormal floats to zero on that thread and on its
// OpenMP team, and threads it creates later inherit the mode.
#include <gtest/gtest.h>
#include <omp.h>
#include <pmmintrin.h>
#include <xmmintrin.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>

#include "core/context.h"

namespace nmt {
namespace {

constexpr unsigned kBoth = _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON;

void keep_denormals() { _mm_setcsr(_mm_getcsr() & ~kBoth); }

// 1e-30 * 1e-10 = 1e-40 is subnormal: zero under FTZ.
float subnormal_product() {
  volatile float a = 1e-30f, b = 1e-10f;
  return a * b;
}

// The smallest subnormal read as an input: zero under DAZ.
float subnormal_input_times_one() {
  const uint32_t bits = 1;
  float tiny;
  std::memcpy(&tiny, &bits, sizeof tiny);
  volatile float a = tiny, one = 1.f;
  return a * one;
}

TEST(Context, FlushesSubnormalsOnItsThreadAndOpenMPTeam) {
  std::thread([] {
    // A fresh thread without the mode, and its OpenMP team without it either. The team is
    // the default size, the one Context's own parallel region reaches.
    const int team = omp_get_max_threads();
    keep_denormals();
    std::atomic<int> kept{0};
#pragma omp parallel
    {
      keep_denormals();
      if (!flushes_denormals()) ++kept;
    }
    EXPECT_EQ(kept.load(), team);
    ASSERT_GT(subnormal_product(), 0.f);  // the arithmetic really makes a subnormal here
    ASSERT_GT(subnormal_input_times_one(), 0.f);

    Context::get();  // this thread's context is made now
    EXPECT_TRUE(flushes_denormals());
    EXPECT_EQ(subnormal_product(), 0.f);
    EXPECT_EQ(subnormal_input_times_one(), 0.f);
    std::atomic<int> flushing{0}, zero_products{0};
#pragma omp parallel
    {
      if (flushes_denormals()) ++flushing;
      if (subnormal_product() == 0.f && subnormal_input_times_one() == 0.f) ++zero_products;
    }
    EXPECT_EQ(flushing.load(), team);
    EXPECT_EQ(zero_products.load(), team);

    // A thread started afterwards inherits the mode.
    bool child_flushes = false;
    std::thread([&] { child_flushes = flushes_denormals() && subnormal_product() == 0.f; }).join();
    EXPECT_TRUE(child_flushes);
  }).join();
}

}  // namespace
}  // namespace nmt
