#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/params.h"
#include "training/optimizer.h"

namespace nmt {

TEST(Adam, OneStepMatchesHandComputation) {
  ParamStore ps;
  Var w = ps.add("w", {3}, Init::zeros());
  ps.allocate(0);
  w->value.copy_from(Tensor::from({3}, {1.f, -2.f, 0.5f}));
  const std::vector<float> g = {0.3f, -0.1f, 0.f};
  w->grad.copy_from(Tensor::from({3}, g));
  AdamConfig cfg;
  cfg.beta1 = 0.8f;
  cfg.beta2 = 0.9f;
  cfg.eps = 1e-3f;
  Adam adam(ps, cfg);
  const float lr = 0.01f;
  adam.step(lr);
  adam.step(lr);  // same gradient twice: checks the bias correction at t = 2 as well
  EXPECT_EQ(adam.steps(), 2);
  const std::vector<float> p0 = {1.f, -2.f, 0.5f};
  for (int i = 0; i < 3; ++i) {
    double p = p0[i], m = 0, v = 0;
    for (int t = 1; t <= 2; ++t) {
      m = 0.8 * m + 0.2 * g[i];
      v = 0.9 * v + 0.1 * g[i] * g[i];
      double mhat = m / (1 - std::pow(0.8, t)), vhat = v / (1 - std::pow(0.9, t));
      p -= lr * mhat / (std::sqrt(vhat) + 1e-3);
    }
    EXPECT_NEAR(w->value[i], p, 1e-6) << i;
    EXPECT_NEAR(adam.m()[ps.offset("w") + i], m, 1e-7) << i;
    EXPECT_NEAR(adam.v()[ps.offset("w") + i], v, 1e-8) << i;
  }
  // With a constant gradient the first step moves each weight by ~lr against its sign.
  EXPECT_LT(w->value[0], 1.f - 0.019f);
  EXPECT_GT(w->value[1], -2.f + 0.019f);
  EXPECT_EQ(w->value[2], 0.5f);  // zero gradient, zero update
}

TEST(Adam, MinimisesAQuadratic) {
  // f(x) = sum_i c_i (x_i - t_i)^2, gradient 2 c_i (x_i - t_i).
  ParamStore ps;
  Var x = ps.add("x", {5}, Init::uniform(3.f));
  Var y = ps.add("y", {2, 2}, Init::normal(3.f));
  ps.allocate(11);
  Adam adam(ps);
  auto target = [](int64_t i) { return 0.5f * float(i) - 1.f; };
  auto coef = [](int64_t i) { return 0.1f + float(i % 3); };
  auto loss = [&] {
    double s = 0;
    for (const Var& p : {x, y})
      for (int64_t i = 0; i < p->value.numel(); ++i) s += coef(i) * std::pow(p->value[i] - target(i), 2);
    return s;
  };
  const double start = loss();
  for (int step = 1; step <= 400; ++step) {
    ps.zero_grads();
    for (const Var& p : {x, y})
      for (int64_t i = 0; i < p->value.numel(); ++i) p->grad[i] = 2 * coef(i) * (p->value[i] - target(i));
    adam.step(lr_at(step, 0.1f, 20, true));
  }
  EXPECT_GT(start, 1.0);
  EXPECT_LT(loss(), 1e-4 * start) << "start " << start;
  for (const Var& p : {x, y})
    for (int64_t i = 0; i < p->value.numel(); ++i) EXPECT_NEAR(p->value[i], target(i), 0.02);
}

TEST(Adam, StateAndErrors) {
  ParamStore unallocated;
  unallocated.add("w", {2}, Init::zeros());
  EXPECT_THROW(Adam a(unallocated), Error);
  ParamStore ps;
  ps.add("w", {20}, Init::ones());
  ps.allocate(0);
  AdamConfig bad;
  bad.beta2 = 1.f;
  EXPECT_THROW(Adam a(ps, bad), Error);
  Adam adam(ps);
  EXPECT_EQ(adam.m().shape(), (Shape{ps.size()}));
  EXPECT_EQ(adam.v().shape(), (Shape{ps.size()}));
  EXPECT_EQ(adam.m().data(), adam.m().data());  // a view, not a copy
  adam.set_steps(17);
  EXPECT_EQ(adam.steps(), 17);
  EXPECT_THROW(adam.set_steps(-1), Error);
}

TEST(Adam, RestoredStateContinuesIdentically) {
  // Two optimizers over equal parameters; the second gets the first's state mid-way.
  auto make = [] {
    auto ps = std::make_unique<ParamStore>();
    ps->add("w", {37}, Init::uniform(1.f));
    ps->allocate(9);
    return ps;
  };
  auto pa = make(), pb = make();
  Adam a(*pa), b(*pb);
  auto set_grads = [](ParamStore& ps, int step) {
    for (int64_t i = 0; i < 37; ++i) ps.get("w")->grad[i] = std::sin(float(i * step)) + ps.get("w")->value[i];
  };
  for (int s = 1; s <= 5; ++s) {
    set_grads(*pa, s);
    a.step(0.01f);
  }
  pb->get("w")->value.copy_from(pa->get("w")->value);
  b.m().copy_from(a.m());
  b.v().copy_from(a.v());
  b.set_steps(a.steps());
  for (int s = 6; s <= 8; ++s) {
    set_grads(*pa, s);
    set_grads(*pb, s);
    a.step(0.01f);
    b.step(0.01f);
  }
  EXPECT_EQ(pa->get("w")->value.to_vector(), pb->get("w")->value.to_vector());
}

class ClipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ps.add("a", {3}, Init::zeros());
    ps.add("b", {2, 2}, Init::zeros());
    ps.allocate(0);
  }
  void set(const std::vector<float>& a, const std::vector<float>& b) {
    ps.get("a")->grad.copy_from(Tensor::from({3}, a));
    ps.get("b")->grad.copy_from(Tensor::from({2, 2}, b));
  }
  ParamStore ps;
};

TEST_F(ClipTest, NormIsOverAllParameters) {
  set({1, 2, 2}, {0, 4, 0, 0});  // sqrt(1 + 4 + 4 + 16) = 5
  EXPECT_FLOAT_EQ(grad_norm(ps), 5.f);
}

TEST(ClipScale, ClipsToMaxNormOnlyAboveIt) {
  EXPECT_FLOAT_EQ(clip_scale(5.f, 1.f), 0.2f);
  EXPECT_EQ(clip_scale(0.5f, 1.f), 1.f);
  EXPECT_EQ(clip_scale(1.f, 1.f), 1.f);
  EXPECT_EQ(clip_scale(30.f, 0.f), 1.f);  // max_norm 0: no clipping
}

// Adam with a gradient scale takes the step it would take on the scaled gradients, bit for
// bit, and leaves the gradients as they were.
TEST_F(ClipTest, AdamStepsOnTheScaledGradients) {
  const std::vector<float> a = {3, 0, -1}, b = {0, 2, 4, 0.5f};
  set(a, b);
  const float scale = clip_scale(grad_norm(ps), 1.f);
  ASSERT_LT(scale, 1.f);
  Adam fused(ps, AdamConfig{});
  fused.step(0.1f, scale);
  const std::vector<float> fused_a = ps.get("a")->value.to_vector(), fused_b = ps.get("b")->value.to_vector();
  EXPECT_EQ(ps.get("a")->grad.to_vector(), a);
  EXPECT_EQ(ps.get("b")->grad.to_vector(), b);

  ps.get("a")->value.fill(0.f);
  ps.get("b")->value.fill(0.f);
  std::vector<float> sa = a, sb = b;
  for (float& x : sa) x *= scale;
  for (float& x : sb) x *= scale;
  set(sa, sb);
  Adam plain(ps, AdamConfig{});
  plain.step(0.1f);
  EXPECT_EQ(ps.get("a")->value.to_vector(), fused_a);
  EXPECT_EQ(ps.get("b")->value.to_vector(), fused_b);
  EXPECT_NE(fused_a, std::vector<float>(3, 0.f));
}

// The norm doubles as the finiteness check: NaN or +-Inf anywhere makes it non-finite.
TEST_F(ClipTest, NormIsNotFiniteWhenAGradientIsNot) {
  set({1, 2, 3}, {4, 5, 6, 7});
  EXPECT_TRUE(std::isfinite(grad_norm(ps)));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    set({1, 2, 3}, {4, 5, bad, 7});
    EXPECT_FALSE(std::isfinite(grad_norm(ps))) << bad;
  }
}

TEST(GradNorm, LargeArenaInParallel) {
  ParamStore ps;
  ps.add("big", {100000}, Init::zeros());
  ps.allocate(0);
  EXPECT_EQ(grad_norm(ps), 0.f);
  ps.get("big")->grad[77777] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(std::isfinite(grad_norm(ps)));
  ps.get("big")->grad[77777] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(std::isfinite(grad_norm(ps)));
  for (int64_t i = 0; i < 100000; ++i) ps.get("big")->grad[i] = 0.01f;
  EXPECT_NEAR(grad_norm(ps), std::sqrt(100000 * 1e-4), 1e-4);
}

TEST(LrSchedule, WarmupConstantAndDecay) {
  EXPECT_FLOAT_EQ(lr_at(1, 1e-3f, 4, false), 0.25e-3f);
  EXPECT_FLOAT_EQ(lr_at(2, 1e-3f, 4, true), 0.5e-3f);
  EXPECT_FLOAT_EQ(lr_at(4, 1e-3f, 4, true), 1e-3f);
  EXPECT_FLOAT_EQ(lr_at(100, 1e-3f, 4, false), 1e-3f);
  EXPECT_FLOAT_EQ(lr_at(16, 1e-3f, 4, true), 0.5e-3f);  // sqrt(4/16)
  EXPECT_FLOAT_EQ(lr_at(1, 2e-3f, 0, false), 2e-3f);
  EXPECT_FLOAT_EQ(lr_at(1, 2e-3f, 0, true), 2e-3f);
  EXPECT_FLOAT_EQ(lr_at(4, 2e-3f, 0, true), 1e-3f);  // relative to step 1
  EXPECT_THROW(lr_at(0, 1e-3f, 4, false), Error);
  EXPECT_THROW(lr_at(1, 1e-3f, -1, false), Error);
}

}  // namespace nmt
