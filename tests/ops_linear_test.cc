#include <gtest/gtest.h>

#include <string>

#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/linear.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {

// Reference: y[r, o] = sum_i x[r, i] W[o, i] + b[o], plain loops over the flattened rows.
Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor* b) {
  const int64_t in = w.dim(1), out = w.dim(0), rows = x.numel() / in;
  Shape ys = x.shape();
  ys.back() = out;
  Tensor y(ys);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b ? (*b)[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) s += double(x[r * in + i]) * w[o * in + i];
      y[r * out + o] = static_cast<float>(s);
    }
  return y;
}

const std::vector<Shape> kInputShapes = {{4}, {6, 4}, {2, 3, 4}, {2, 1, 3, 4}};

// linear is affine in each input (bilinear in x, W): central differences are exact up to
// the float rounding of the forward passes, which eps = 0.1 keeps far below atol.
GradCheckOptions bilinear_opt() {
  GradCheckOptions opt;
  opt.eps = 0.1;
  opt.atol = 2e-4;
  opt.rtol = 1e-3;
  return opt;
}

}  // namespace

TEST(LinearOp, ForwardMatchesLoop) {
  uint64_t seed = 1;
  for (const Shape& xs : kInputShapes)
    for (bool with_bias : {true, false}) {
      Tensor x = random_tensor(xs, seed++), w = random_tensor({5, 4}, seed++), b = random_tensor({5}, seed++);
      NoGradScope ng;
      Var y = linear(leaf(x), leaf(w), with_bias ? leaf(b) : Var());
      Tensor ref = naive_linear(x, w, with_bias ? &b : nullptr);
      ASSERT_EQ(y->value.shape(), ref.shape());
      for (int64_t i = 0; i < ref.numel(); ++i)
        EXPECT_NEAR(y->value[i], ref[i], 1e-5) << shape_str(xs) << " bias=" << with_bias << " at " << i;
    }
}

TEST(LinearOp, LargerForwardMatchesLoop) {
  Tensor x = random_tensor({5, 7, 70}, 3), w = random_tensor({90, 70}, 4), b = random_tensor({90}, 5);
  Tensor y(linear_shape(x, w, &b));
  linear_forward(x, w, &b, y);
  Tensor ref = naive_linear(x, w, &b);
  for (int64_t i = 0; i < ref.numel(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-4) << i;
}

TEST(LinearOp, Gradient) {
  uint64_t seed = 50;
  for (const Shape& xs : kInputShapes) {
    SCOPED_TRACE(shape_str(xs));
    expect_gradients_match([](const std::vector<Var>& v) { return linear(v[0], v[1], v[2]); },
                           {random_tensor(xs, seed), random_tensor({5, 4}, seed + 1), random_tensor({5}, seed + 2)},
                           bilinear_opt());
    seed += 3;
  }
}

TEST(LinearOp, GradientWithoutBias) {
  expect_gradients_match([](const std::vector<Var>& v) { return linear(v[0], v[1], Var()); },
                         {random_tensor({2, 3, 4}, 60), random_tensor({5, 4}, 61)}, bilinear_opt());
}

TEST(LinearOp, BiasGradientOverManyRowsAndColumns) {
  // More than one 64-column block and enough rows for the threaded column-sum path.
  Tensor x = random_tensor({300, 8}, 70), w = random_tensor({130, 8}, 71), b = random_tensor({130}, 72);
  Tensor dy = random_tensor({300, 130}, 73);
  Tensor db = Tensor::full({130}, 0.5f);
  linear_backward(x, w, dy, nullptr, nullptr, &db);
  for (int64_t o = 0; o < 130; ++o) {
    double s = 0.5;
    for (int64_t r = 0; r < 300; ++r) s += dy[r * 130 + o];
    EXPECT_NEAR(db[o], s, 1e-3) << o;
  }
}

TEST(LinearOp, UsedTwiceAccumulates) {
  // The same W and b in two layers, and x both through the layers and added at the end.
  GradCheckOptions opt;
  opt.eps = 1e-2;  // the composition is cubic in W: keep the truncation error small
  opt.atol = 1e-3;
  opt.rtol = 1e-2;
  expect_gradients_match([](const std::vector<Var>& v) { return linear(linear(v[0], v[1], v[2]), v[1], v[2]); },
                         {random_tensor({3, 4}, 80), random_tensor({4, 4}, 81), random_tensor({4}, 82)}, opt);
}

TEST(LinearOp, BackwardAddsToExistingGradients) {
  Tensor x = random_tensor({3, 4}, 90), w = random_tensor({5, 4}, 91), dy = random_tensor({3, 5}, 92);
  Tensor dx0 = Tensor::zeros(x.shape()), dw0 = Tensor::zeros(w.shape()), db0 = Tensor::zeros({5});
  linear_backward(x, w, dy, &dx0, &dw0, &db0);
  Tensor dx = Tensor::full(x.shape(), 1.f), dw = Tensor::full(w.shape(), 2.f), db = Tensor::full({5}, 3.f);
  linear_backward(x, w, dy, &dx, &dw, &db);
  for (int64_t i = 0; i < dx.numel(); ++i) EXPECT_NEAR(dx[i], dx0[i] + 1.f, 1e-5);
  for (int64_t i = 0; i < dw.numel(); ++i) EXPECT_NEAR(dw[i], dw0[i] + 2.f, 1e-5);
  for (int64_t i = 0; i < db.numel(); ++i) EXPECT_NEAR(db[i], db0[i] + 3.f, 1e-5);
}

TEST(LinearOp, ShapeMismatchThrowsWithShapes) {
  auto message = [](const Shape& x, const Shape& w, const Shape& b) {
    try {
      linear(leaf(Tensor(x)), leaf(Tensor(w)), b.empty() ? Var() : leaf(Tensor(b)));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no throw");
  };
  std::string m = message({2, 3}, {5, 4}, {5});
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[5, 4]"), std::string::npos) << m;
  m = message({2, 4}, {5, 4}, {4});
  EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  EXPECT_NE(message({2, 4}, {4}, {}), "no throw");
  EXPECT_EQ(message({2, 4}, {5, 4}, {}), "no throw");
}

TEST(LinearOp, RepeatedCallsReuseTheCache) {
  testing::expect_cache_reused([] {
    Var x = leaf(random_tensor({3, 11, 23}, 1), true);
    Var w = leaf(random_tensor({29, 23}, 2), true), b = leaf(random_tensor({29}, 3), true);
    return linear(x, w, b);
  });
}

}  // namespace nmt
