#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/add.h"
#include "ops/eltwise.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {

const Activation kAll[] = {Activation::Tanh, Activation::Sigmoid, Activation::Relu};

float reference(Activation f, float x) {
  switch (f) {
    case Activation::Tanh:
      return std::tanh(x);
    case Activation::Sigmoid:
      return 1.f / (1.f + std::exp(-x));
    case Activation::Relu:
      return std::max(x, 0.f);
  }
  return 0.f;
}

// Values in [-2, 2] kept at least 0.1 away from 0, so relu's kink is never inside a
// finite-difference step.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor t = random_tensor(shape, seed, -2.f, 2.f);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] += t[i] < 0 ? -0.1f : 0.1f;
  return t;
}

}  // namespace

TEST(EltwiseOp, ForwardMatchesLoop) {
  for (Activation f : kAll)
    for (const Shape& s : {Shape{7}, Shape{3, 5}, Shape{2, 3, 40}}) {
      Tensor x = random_tensor(s, 1, -4.f, 4.f);
      NoGradScope ng;
      Var y = activation(f, leaf(x));
      EXPECT_FALSE(y->requires_grad);
      ASSERT_EQ(y->value.shape(), s);
      Tensor z = x.clone();
      eltwise_forward(f, z, z);  // in place
      for (int64_t i = 0; i < x.numel(); ++i) {
        EXPECT_NEAR(y->value[i], reference(f, x[i]), 2e-6) << activation_name(f) << " at x=" << x[i];
        EXPECT_EQ(z[i], y->value[i]);
      }
    }
}

TEST(EltwiseOp, NamedFunctionsPickTheirActivation) {
  Tensor x = Tensor::from({3}, {-1.f, 0.5f, 2.f});
  NoGradScope ng;
  Var t = tanh(leaf(x)), s = sigmoid(leaf(x)), r = relu(leaf(x));
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(t->value[i], std::tanh(x[i]), 1e-6);
    EXPECT_NEAR(s->value[i], 1.f / (1.f + std::exp(-x[i])), 1e-6);
    EXPECT_EQ(r->value[i], std::max(x[i], 0.f));
  }
}

// Smooth functions with bounded third derivatives on [-2, 2]: with eps = 1e-2 the
// truncation error is ~1e-5 and the float rounding of the loss ~1e-4 after dividing by
// 2 eps, both well under atol = 1e-3. relu is piecewise linear (exact away from 0).
TEST(EltwiseOp, Gradient) {
  for (Activation f : kAll) {
    SCOPED_TRACE(activation_name(f));
    expect_gradients_match([f](const std::vector<Var>& x) { return activation(f, x[0]); },
                           {away_from_zero({3, 7}, 10)});
  }
}

TEST(EltwiseOp, UsedTwiceAccumulates) {
  // x feeds two activations: each backward must add into x's gradient, not overwrite it.
  expect_gradients_match([](const std::vector<Var>& x) { return add(add(tanh(x[0]), sigmoid(x[0])), relu(x[0])); },
                         {away_from_zero({4, 5}, 20)});
}

TEST(EltwiseOp, BackwardAddsToExistingGradient) {
  Tensor x = away_from_zero({2, 9}, 30), dy = random_tensor({2, 9}, 31);
  for (Activation f : kAll) {
    Tensor y(x.shape());
    eltwise_forward(f, x, y);
    Tensor dx = Tensor::full(x.shape(), 1.5f);
    eltwise_backward(f, y, dy, dx);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float yi = reference(f, x[i]);
      const float d = f == Activation::Tanh ? 1 - yi * yi : f == Activation::Sigmoid ? yi * (1 - yi) : (x[i] > 0);
      EXPECT_NEAR(dx[i], 1.5f + dy[i] * d, 1e-5) << activation_name(f) << " at " << i;
    }
  }
}

TEST(EltwiseOp, ShapeMismatchThrowsWithShapes) {
  Tensor x({2, 3}), y({3, 2});
  testing::expect_error_containing([&] { eltwise_forward(Activation::Tanh, x, y); }, "[2, 3]", "[3, 2]");
  Tensor dx({2, 2});
  EXPECT_THROW(eltwise_backward(Activation::Relu, x, x, dx), Error);
}

TEST(EltwiseOp, RepeatedCallsReuseTheCache) {
  testing::expect_cache_reused([] {
    Var x = leaf(random_tensor({7, 53}, 1), true);
    return add(tanh(x), sigmoid(x));
  });
}

}  // namespace nmt
