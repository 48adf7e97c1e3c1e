// ExponentialSmoothing (training/smoothing.h): the decay schedule, the running average against
// a double-precision reference, and the exact swap used around validation and saving.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/params.h"
#include "training/smoothing.h"

namespace nmt {
namespace {

TEST(ExponentialSmoothing, DecayFollowsMariansSchedule) {
  // max(factor, 1 - (b + 1) / (b + 10))
  EXPECT_FLOAT_EQ(ExponentialSmoothing::decay(1e-4f, 0), 0.9f);
  EXPECT_FLOAT_EQ(ExponentialSmoothing::decay(1e-4f, 8), 1.f - 9.f / 18.f);
  EXPECT_FLOAT_EQ(ExponentialSmoothing::decay(1e-4f, 5000), 9.f / 5010.f);
  EXPECT_FLOAT_EQ(ExponentialSmoothing::decay(1e-4f, 200000), 1e-4f);  // 9 / 200010 < 1e-4
  EXPECT_FLOAT_EQ(ExponentialSmoothing::decay(1.f, 7), 1.f);           // factor 1: the average is the last value
  EXPECT_THROW(ExponentialSmoothing::decay(1e-4f, -1), Error);
}

TEST(ExponentialSmoothing, AverageMatchesAReferenceRecurrence) {
  ParamStore ps;
  Var w = ps.add("w", {3}, Init::uniform(1.f));
  Var b = ps.add("b", {2}, Init::zeros());
  ps.allocate(3);
  std::vector<double> ref(static_cast<size_t>(ps.size()));
  for (int64_t i = 0; i < ps.size(); ++i) ref[i] = ps.values()[i];  // starts as a copy
  ExponentialSmoothing ema(ps, 0.05f);
  for (int64_t step = 0; step < 30; ++step) {
    for (int64_t i = 0; i < ps.size(); ++i)
      ps.values()[i] += 0.1f * static_cast<float>((i % 3) + 1) * (step % 2 ? -1 : 1) + 0.01f;
    ema.update(step);
    const double d = std::max(0.05, 1.0 - (step + 1.0) / (step + 10.0));
    for (int64_t i = 0; i < ps.size(); ++i) ref[i] = (1 - d) * ref[i] + d * ps.values()[i];
  }
  const Tensor avg = ema.average();
  ASSERT_EQ(avg.numel(), ps.size());
  for (int64_t i = 0; i < ps.size(); ++i) {
    EXPECT_NEAR(avg[i], ref[i], 1e-5) << i;
    EXPECT_NE(avg[i], ps.values()[i]) << i;  // the average lags the moving parameters
  }
}

TEST(ExponentialSmoothing, FactorOneTracksTheParametersExactly) {
  ParamStore ps;
  ps.add("w", {5}, Init::normal(1.f));
  ps.allocate(4);
  ExponentialSmoothing ema(ps, 1.f);
  for (int64_t i = 0; i < ps.size(); ++i) ps.values()[i] *= 3.f;
  ema.update(0);
  EXPECT_EQ(std::memcmp(ema.average().data(), ps.values(), ps.size() * sizeof(float)), 0);
}

TEST(ExponentialSmoothing, SmoothedParamsSwapsInAndRestoresExactly) {
  ParamStore ps;
  Var w = ps.add("w", {4}, Init::normal(1.f));
  ps.allocate(5);
  ExponentialSmoothing ema(ps, 0.5f);
  for (int64_t i = 0; i < ps.size(); ++i) ps.values()[i] += 1.f;
  ema.update(100);  // decay 0.5: avg = (old + new) / 2
  const std::vector<float> raw(ps.values(), ps.values() + ps.size());
  const std::vector<float> avg(ema.average().data(), ema.average().data() + ps.size());
  {
    SmoothedParams scope(&ema);
    for (int64_t i = 0; i < w->value.numel(); ++i) {
      EXPECT_EQ(w->value[i], avg[ps.offset("w") + i]);  // the named views see the average
      EXPECT_FLOAT_EQ(w->value[i], raw[ps.offset("w") + i] - 0.5f);
    }
  }
  EXPECT_EQ(std::memcmp(ps.values(), raw.data(), raw.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(ema.average().data(), avg.data(), avg.size() * sizeof(float)), 0);
  { SmoothedParams none(nullptr); }  // no smoothing: nothing changes
  EXPECT_EQ(std::memcmp(ps.values(), raw.data(), raw.size() * sizeof(float)), 0);
}

TEST(ExponentialSmoothing, RejectsBadFactorsAndUnallocatedStores) {
  ParamStore ps;
  ps.add("w", {2}, Init::zeros());
  EXPECT_THROW(ExponentialSmoothing(ps, 1e-4f), Error);  // not allocated
  ps.allocate(1);
  for (float f : {0.f, -0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()})
    EXPECT_THROW(ExponentialSmoothing(ps, f), Error) << f;
}

}  // namespace
}  // namespace nmt
