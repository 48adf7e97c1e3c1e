#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/add.h"
#include "ops/softmax.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {

// Reference (log-)softmax over the last axis, in double with the max subtracted.
Tensor naive_softmax(const Tensor& x, bool log) {
  const int64_t c = x.dim(-1), rows = x.numel() / c;
  Tensor y(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x.data() + r * c;
    double m = *std::max_element(p, p + c), s = 0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(double(p[j]) - m);
    for (int64_t j = 0; j < c; ++j)
      y[r * c + j] = static_cast<float>(log ? p[j] - m - std::log(s) : std::exp(double(p[j]) - m) / s);
  }
  return y;
}

Var op(bool log, const Var& x) { return log ? log_softmax(x) : softmax(x); }

}  // namespace

TEST(SoftmaxOp, ForwardMatchesLoop) {
  for (bool log : {false, true})
    for (const Shape& s : {Shape{5}, Shape{3, 7}, Shape{2, 3, 40}}) {
      Tensor x = random_tensor(s, 1, -5.f, 5.f);
      NoGradScope ng;
      Var y = op(log, leaf(x));
      EXPECT_FALSE(y->requires_grad);
      Tensor ref = naive_softmax(x, log);
      ASSERT_EQ(y->value.shape(), s);
      Tensor z = x.clone();
      softmax_forward(z, z, log);  // in place
      for (int64_t i = 0; i < x.numel(); ++i) {
        EXPECT_NEAR(y->value[i], ref[i], 1e-5) << (log ? "log_softmax " : "softmax ") << shape_str(s) << " at " << i;
        EXPECT_NEAR(z[i], ref[i], 1e-5) << "in place, at " << i;
      }
    }
}

TEST(SoftmaxOp, LargeInputsAreStable) {
  Tensor x = Tensor::from({2, 3}, {1000.f, 1001.f, 1002.f, -1000.f, -1000.f, 0.f});
  Tensor y(x.shape()), ly(x.shape());
  softmax_forward(x, y);
  softmax_forward(x, ly, /*log=*/true);
  Tensor ref = naive_softmax(x, false), lref = naive_softmax(x, true);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(y[i], ref[i], 1e-6);
    EXPECT_NEAR(ly[i], lref[i], 1e-4);
  }
}

// Smooth with small derivatives on inputs in [-1, 1]: eps = 1e-2 gives a truncation
// error ~1e-5 and float rounding ~1e-4 after dividing by 2 eps; defaults (atol 1e-3,
// rtol 1e-2) hold with margin while any wrong formula is off by O(0.1).
TEST(SoftmaxOp, Gradient) {
  for (bool log : {false, true})
    for (const Shape& s : {Shape{6}, Shape{2, 3, 5}}) {
      SCOPED_TRACE(cat(log ? "log_softmax " : "softmax ", shape_str(s)));
      expect_gradients_match([log](const std::vector<Var>& x) { return op(log, x[0]); }, {random_tensor(s, 10)});
    }
}

TEST(SoftmaxOp, UsedTwiceAccumulates) {
  expect_gradients_match([](const std::vector<Var>& x) { return add(softmax(x[0]), log_softmax(x[0])); },
                         {random_tensor({3, 4}, 20)});
}

TEST(SoftmaxOp, BackwardAddsToExistingGradient) {
  Tensor x = random_tensor({3, 6}, 30), dy = random_tensor({3, 6}, 31);
  for (bool log : {false, true}) {
    Tensor y(x.shape());
    softmax_forward(x, y, log);
    Tensor dx = Tensor::full(x.shape(), -1.f);
    softmax_backward(y, dy, dx, log);
    for (int64_t r = 0; r < 3; ++r) {
      // softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - exp(y) sum(dy)
      double dot = 0, sum = 0;
      for (int64_t j = 0; j < 6; ++j) dot += dy[r * 6 + j] * y[r * 6 + j], sum += dy[r * 6 + j];
      for (int64_t j = 0; j < 6; ++j) {
        const int64_t i = r * 6 + j;
        const double g = log ? dy[i] - std::exp(y[i]) * sum : y[i] * (dy[i] - dot);
        EXPECT_NEAR(dx[i], -1.0 + g, 1e-5) << "log=" << log << " at " << i;
      }
    }
  }
}

TEST(SoftmaxOp, ShapeMismatchThrowsWithShapes) {
  Tensor x({2, 3}), y({3, 2});
  testing::expect_error_containing([&] { softmax_forward(x, y); }, "[2, 3]", "[3, 2]");
  Tensor dx({2, 2});
  EXPECT_THROW(softmax_backward(x, x, dx, true), Error);
  EXPECT_THROW(softmax(leaf(Tensor({4, 0}))), Error);  // nothing to normalise over
}

TEST(SoftmaxOp, RepeatedCallsReuseTheCache) {
  testing::expect_cache_reused([] {
    Var x = leaf(random_tensor({9, 31}, 1), true);
    return add(softmax(x), log_softmax(x));
  });
}

}  // namespace nmt
