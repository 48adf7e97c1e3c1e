// int8 linear layers (ops/linear_int8.h): the quantization error stays within its
// derived bound, a row's result does not depend on the other rows, and Int8Scope switches
// exactly the gradient-free products with parameter weights.
#include <gtest/gtest.h>

#include <cmath>

#include "core/context.h"
#include "core/error.h"
#include "op_helpers.h"
#include "ops/eltwise.h"
#include "ops/linear.h"
#include "ops/linear_int8.h"

namespace nmt {
using testing::expect_error_containing;
using testing::random_tensor;

namespace {

class LinearInt8Test : public ::testing::Test {
 protected:
  void SetUp() override { Context::get().set_threads(1); }
};

float row_max(const Tensor& t, int64_t r, int64_t cols) {
  float m = 0;
  for (int64_t c = 0; c < cols; ++c) m = std::max(m, std::fabs(t[r * cols + c]));
  return m;
}

TEST_F(LinearInt8Test, WeightsRoundToTheNearestStepOfTheirRow) {
  Tensor w = random_tensor({5, 33}, 1, -2.f, 2.f);
  for (int64_t i = 0; i < 33; ++i) w[2 * 33 + i] = 0.f;  // an all-zero row
  for (const int levels : {int8_weight_levels(), 63, 127}) {
    const Int8Weights q = quantize_weights(w, levels);
    ASSERT_EQ(q.out, 5);
    ASSERT_EQ(q.in, 33);
    ASSERT_EQ(q.levels, levels);
    for (int64_t j = 0; j < 5; ++j) {
      const float m = row_max(w, j, 33);
      EXPECT_FLOAT_EQ(q.scales[j], m > 0 ? m / static_cast<float>(levels) : 1.f);
      int peak = 0;
      for (int64_t i = 0; i < 33; ++i) {
        const float v = w[j * 33 + i], back = q.scales[j] * q.q[j * 33 + i];
        EXPECT_LE(std::fabs(v - back), 0.5f * q.scales[j] * 1.0001f) << j << "," << i;
        peak = std::max(peak, std::abs(static_cast<int>(q.q[j * 33 + i])));
      }
      EXPECT_EQ(peak, m > 0 ? levels : 0) << "row " << j;
    }
  }
  EXPECT_THROW(quantize_weights(w, 128), Error);
}

// The integer sums are exact at the extremes of the range the CPU's rule allows: every
// activation at +-127 and every weight at +-levels. A saturating int16 step (vpmaddubsw
// without VNNI, when weights take 8 bits) would cap these sums far below the truth.
TEST_F(LinearInt8Test, ExtremeProductsAreExactWithTheCpusWeightRange) {
  const int levels = int8_weight_levels();
  for (const int64_t rows : {1, 5, 64}) {
    const int64_t in = 96, out = 40;
    Tensor x({rows, in}), w({out, in});
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = (i % 3 == 0) ? -2.f : 2.f;          // xs = 2 / 127
    for (int64_t i = 0; i < w.numel(); ++i) w[i] = ((i / 7) % 3 == 0) ? -0.5f : 0.5f;  // ws = 0.5 / levels
    const Int8Weights q = quantize_weights(w);
    ASSERT_EQ(q.levels, levels);
    Tensor y({rows, out});
    linear_int8_forward(x, q, nullptr, y);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < out; ++j) {
        double exact = 0;
        for (int64_t k = 0; k < in; ++k) exact += static_cast<double>(x[r * in + k]) * w[j * in + k];
        ASSERT_NEAR(y[r * out + j], exact, 1e-4 * std::fabs(exact) + 1e-4)
            << rows << " rows, " << r << "," << j << " with weights of " << levels << " levels";
      }
  }
}

// x_k = xs xq_k + dx_k, |dx_k| <= xs/2, and likewise for W (ws = max|w| / levels): the
// product's error is at most ws/2 sum|x_k| + xs/2 sum|w_k| + in xs ws / 4 (plus fp32 rounding).
TEST_F(LinearInt8Test, ProductErrorIsWithinTheQuantizationBound) {
  const int64_t rows = 9, in = 70, out = 31;
  Tensor x = random_tensor({3, 3, in}, 2, -3.f, 3.f), w = random_tensor({out, in}, 3), b = random_tensor({out}, 4);
  Tensor y({3, 3, out}), ref({3, 3, out});
  const Int8Weights q = quantize_weights(w);
  linear_int8_forward(x, q, &b, y);
  linear_forward(x, w, &b, ref);
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float xs = row_max(x, r, in) / 127.f;
    for (int64_t j = 0; j < out; ++j) {
      double sx = 0, sw = 0;
      for (int64_t k = 0; k < in; ++k) {
        sx += std::fabs(x[r * in + k]);
        sw += std::fabs(w[j * in + k]);
      }
      const double bound = 0.5 * q.scales[j] * sx + 0.5 * xs * sw + 0.25 * in * xs * q.scales[j];
      const double err = std::fabs(y[r * out + j] - ref[r * out + j]);
      EXPECT_LE(err, bound + 1e-4) << r << "," << j;
      worst = std::max(worst, err);
    }
  }
  EXPECT_GT(worst, 0.0) << "int8 gave exactly the fp32 result: the int8 path did not run";
}

TEST_F(LinearInt8Test, ARowsResultDoesNotDependOnTheBatch) {
  const int64_t rows = 6, in = 40, out = 24;
  Tensor x = random_tensor({rows, in}, 5), w = random_tensor({out, in}, 6), b = random_tensor({out}, 7);
  for (int64_t k = 0; k < in; ++k) x[3 * in + k] *= 50.f;  // one large row must not coarsen the others
  const Int8Weights q = quantize_weights(w);
  Tensor all({rows, out});
  linear_int8_forward(x, q, &b, all);
  for (int64_t r = 0; r < rows; ++r) {
    Tensor one({1, in}), y({1, out});
    for (int64_t k = 0; k < in; ++k) one[k] = x[r * in + k];
    linear_int8_forward(one, q, &b, y);
    for (int64_t j = 0; j < out; ++j) EXPECT_EQ(y[j], all[r * out + j]) << "row " << r << ", column " << j;
  }
}

TEST_F(LinearInt8Test, ScopeSwitchesOnlyGradientFreeProductsWithParameterWeights) {
  Tensor xv = random_tensor({4, 16}, 8), wv = random_tensor({8, 16}, 9), bv = random_tensor({8}, 10);
  Tensor fp32({4, 8}), int8({4, 8});
  linear_forward(xv, wv, &bv, fp32);
  linear_int8_forward(xv, quantize_weights(wv), &bv, int8);
  auto same = [](const Tensor& a, const Tensor& b) {
    for (int64_t i = 0; i < a.numel(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  };
  ASSERT_FALSE(same(fp32, int8));
  Var w = leaf(wv), b = leaf(bv);
  {
    NoGradScope no_grad;
    EXPECT_TRUE(same(linear(leaf(xv), w, b)->value, fp32)) << "no scope: fp32";
    Int8Scope scope;
    EXPECT_TRUE(same(linear(leaf(xv), w, b)->value, int8)) << "in the scope: int8";
    Var computed_w = relu(leaf(wv));  // an op's result, not a parameter
    Tensor ref({4, 8});
    linear_forward(xv, computed_w->value, &bv, ref);
    EXPECT_TRUE(same(linear(leaf(xv), computed_w, b)->value, ref)) << "computed weights stay fp32";
  }
  {
    Int8Scope scope;  // gradients recorded: training never runs int8
    Var wg = leaf(wv, true);
    EXPECT_TRUE(same(linear(leaf(xv), wg, b)->value, fp32));
    Tape::current().clear();
  }
  NoGradScope no_grad;
  EXPECT_TRUE(same(linear(leaf(xv), w, b)->value, fp32)) << "after the scope: fp32 again";
}

TEST_F(LinearInt8Test, MismatchedShapesAreNamed) {
  const Int8Weights q = quantize_weights(random_tensor({8, 16}, 11));
  Tensor x = random_tensor({2, 15}, 12), y({2, 8});
  expect_error_containing([&] { linear_int8_forward(x, q, nullptr, y); }, "linear_int8", "[2, 15]");
  expect_error_containing([&] { quantize_weights(random_tensor({3}, 1)); }, "quantize_weights", "[3]");
}

}  // namespace
}  // namespace nmt
