#include <gtest/gtest.h>

#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/elementwise.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

// All ops here are linear or bilinear in each input, so central differences are exact up
// to float rounding of the forward passes: the default tolerances hold with a wide margin.

TEST(Elementwise, MulForwardAndGradient) {
  Tensor a = random_tensor({3, 5}, 1), b = random_tensor({3, 5}, 2);
  {
    NoGradScope ng;
    Var c = mul(leaf(a), leaf(b));
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_FLOAT_EQ(c->value[i], a[i] * b[i]);
  }
  expect_gradients_match([](const std::vector<Var>& x) { return mul(x[0], x[1]); }, {a, b});
}

TEST(Elementwise, MulSquareAccumulatesBothSides) {
  // mul(x, x): dx = 2 x dc, both backward halves land in the same buffer.
  expect_gradients_match([](const std::vector<Var>& x) { return mul(x[0], x[0]); }, {random_tensor({7}, 3)});
}

TEST(Elementwise, ScaleForwardAndGradient) {
  Tensor a = random_tensor({4, 3}, 4);
  {
    NoGradScope ng;
    Var c = scale(leaf(a), -2.5f);
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_FLOAT_EQ(c->value[i], -2.5f * a[i]);
  }
  expect_gradients_match([](const std::vector<Var>& x) { return scale(x[0], 0.3f); }, {a});
}

TEST(Elementwise, AddScaledAndSub) {
  Tensor a = random_tensor({2, 6}, 5), b = random_tensor({2, 6}, 6);
  {
    NoGradScope ng;
    Var c = add_scaled(leaf(a), leaf(b), 0.25f);
    Var d = sub(leaf(a), leaf(b));
    for (int64_t i = 0; i < a.numel(); ++i) {
      EXPECT_FLOAT_EQ(c->value[i], a[i] + 0.25f * b[i]);
      EXPECT_FLOAT_EQ(d->value[i], a[i] - b[i]);
    }
  }
  expect_gradients_match([](const std::vector<Var>& x) { return add_scaled(x[0], x[1], -1.5f); }, {a, b});
  expect_gradients_match([](const std::vector<Var>& x) { return sub(x[0], x[1]); }, {a, b});
}

TEST(Elementwise, AddBroadcastBiasAndSuffix) {
  Tensor a = random_tensor({2, 3, 4}, 7), bias = random_tensor({4}, 8), pos = random_tensor({3, 4}, 9);
  NoGradScope ng;
  Var c = add_broadcast(leaf(a), leaf(bias));
  Var d = add_broadcast(leaf(a), leaf(pos));
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < 3; ++t)
      for (int k = 0; k < 4; ++k) {
        const int64_t i = (n * 3 + t) * 4 + k;
        EXPECT_FLOAT_EQ(c->value[i], a[i] + bias[k]);
        EXPECT_FLOAT_EQ(d->value[i], a[i] + pos[t * 4 + k]);
      }
}

TEST(Elementwise, AddBroadcastGradient) {
  expect_gradients_match([](const std::vector<Var>& x) { return add_broadcast(x[0], x[1]); },
                         {random_tensor({2, 3, 4}, 10), random_tensor({4}, 11)});
  expect_gradients_match([](const std::vector<Var>& x) { return add_broadcast(x[0], x[1]); },
                         {random_tensor({2, 3, 4}, 12), random_tensor({3, 4}, 13)});
  // b the same shape as a: a plain add.
  expect_gradients_match([](const std::vector<Var>& x) { return add_broadcast(x[0], x[1]); },
                         {random_tensor({3, 4}, 14), random_tensor({3, 4}, 15)});
}

TEST(Elementwise, AddBroadcastLargeMatchesLoop) {
  // Large enough for the OpenMP paths and several column blocks (600 columns, 3 blocks).
  Tensor a = random_tensor({97, 600}, 16), b = random_tensor({600}, 17), dc = random_tensor({97, 600}, 18);
  Tensor c({97, 600});
  add_broadcast_forward(a, b, c);
  Tensor da = Tensor::zeros({97, 600}), db = Tensor::full({600}, 1.0f);
  add_broadcast_backward(dc, &da, &db);
  for (int64_t o = 0; o < 97; ++o)
    for (int64_t i = 0; i < 600; ++i) {
      ASSERT_FLOAT_EQ(c[o * 600 + i], a[o * 600 + i] + b[i]);
      ASSERT_FLOAT_EQ(da[o * 600 + i], dc[o * 600 + i]);
    }
  for (int64_t i = 0; i < 600; ++i) {
    double s = 1.0;  // db started at 1: the backward accumulates
    for (int64_t o = 0; o < 97; ++o) s += dc[o * 600 + i];
    EXPECT_NEAR(db[i], s, 1e-4);
  }
}

TEST(Elementwise, ShapeErrorsNameShapes) {
  testing::expect_error_containing([] { mul(leaf(Tensor({2, 3})), leaf(Tensor({3, 2}))); }, "[2, 3]");
  testing::expect_error_containing([] { add_scaled(leaf(Tensor({2})), leaf(Tensor({3})), 1.f); }, "[3]");
  testing::expect_error_containing([] { add_broadcast(leaf(Tensor({2, 3, 4})), leaf(Tensor({3}))); }, "[2, 3, 4]");
  testing::expect_error_containing([] { add_broadcast(leaf(Tensor({4})), leaf(Tensor({2, 4}))); }, "[2, 4]");
}

}  // namespace nmt
