#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/add.h"
#include "ops/cross_entropy.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {
// Naive log-softmax of each row, in double: the reference for the oneDNN primitive.
std::vector<double> naive_log_softmax(const Tensor& x) {
  const int64_t m = x.dim(0), v = x.dim(1);
  std::vector<double> out(m * v);
  for (int64_t r = 0; r < m; ++r) {
    double mx = x[r * v];
    for (int64_t j = 1; j < v; ++j) mx = std::max(mx, double(x[r * v + j]));
    double s = 0;
    for (int64_t j = 0; j < v; ++j) s += std::exp(x[r * v + j] - mx);
    for (int64_t j = 0; j < v; ++j) out[r * v + j] = x[r * v + j] - mx - std::log(s);
  }
  return out;
}

// -sum_v q_v log p_v with q = (1 - eps) onehot + eps / V; 0 for ignored rows.
std::vector<double> naive_loss(const Tensor& x, const std::vector<int32_t>& t, double eps, int32_t ignore) {
  const int64_t m = x.dim(0), v = x.dim(1);
  const std::vector<double> lp = naive_log_softmax(x);
  std::vector<double> out(m, 0.0);
  for (int64_t r = 0; r < m; ++r) {
    if (t[r] == ignore) continue;
    for (int64_t j = 0; j < v; ++j) out[r] -= ((j == t[r] ? 1 - eps : 0) + eps / v) * lp[r * v + j];
  }
  return out;
}
}  // namespace

TEST(CrossEntropy, UnsmoothedEqualsNegLogSoftmaxOfTarget) {
  Tensor x = random_tensor({5, 11}, 1, -3.f, 3.f);
  const std::vector<int32_t> t = {3, 0, 10, 1, 0};
  const std::vector<double> lp = naive_log_softmax(x);
  NoGradScope ng;
  Var loss = cross_entropy(leaf(x), t, 0.f);
  ASSERT_EQ(loss->value.shape(), Shape({5}));
  for (int64_t r = 0; r < 5; ++r) {
    const double want = t[r] == 0 ? 0.0 : -lp[r * 11 + t[r]];
    EXPECT_NEAR(loss->value[r], want, 1e-5) << r;
  }
  EXPECT_EQ(loss->value[1], 0.f);
  EXPECT_EQ(loss->value[4], 0.f);
}

TEST(CrossEntropy, SmoothedMatchesNaive) {
  Tensor x = random_tensor({6, 17}, 2, -4.f, 4.f);
  const std::vector<int32_t> t = {5, 16, 0, 2, 2, 7};
  NoGradScope ng;
  for (float eps : {0.1f, 0.5f, 1.0f}) {
    Var loss = cross_entropy(leaf(x), t, eps);
    const std::vector<double> want = naive_loss(x, t, eps, 0);
    for (int64_t r = 0; r < 6; ++r) EXPECT_NEAR(loss->value[r], want[r], 1e-5) << "eps " << eps << " row " << r;
  }
  // Another ignore id: now id 0 is a real target and -1 marks padding.
  Var loss = cross_entropy(leaf(x), {5, -1, 0, 2, -1, 7}, 0.2f, -1);
  const std::vector<double> want = naive_loss(x, {5, -1, 0, 2, -1, 7}, 0.2, -1);
  for (int64_t r = 0; r < 6; ++r) EXPECT_NEAR(loss->value[r], want[r], 1e-5) << r;
  EXPECT_GT(loss->value[2], 0.f);
}

TEST(CrossEntropy, LargeLogitsStayFinite) {
  Tensor x = random_tensor({3, 50}, 3, -80.f, 80.f);
  x[7] = 500.f;
  NoGradScope ng;
  Var loss = cross_entropy(leaf(x), {7, 20, 49}, 0.1f);
  const std::vector<double> want = naive_loss(x, {7, 20, 49}, 0.1, 0);
  for (int64_t r = 0; r < 3; ++r) {
    EXPECT_TRUE(std::isfinite(loss->value[r]));
    EXPECT_NEAR(loss->value[r], want[r], 1e-4 * std::max(1.0, std::fabs(want[r])));
  }
}

// Log-softmax is smooth with bounded third derivative (|logits| <= 2 here), so with
// eps = 1e-2 the central-difference truncation error is ~1e-5; the float forward passes
// add ~1e-6 / eps = 1e-4 of noise to each numeric derivative. atol 1e-3 covers both with
// margin while a wrong formula (e.g. a missing eps / V term, ~eps / V = 0.01) still fails.
TEST(CrossEntropy, GradientWithSmoothingAndIgnoredRows) {
  GradCheckOptions opt;
  opt.atol = 1e-3;
  opt.rtol = 1e-2;
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return cross_entropy(x[0], {2, 0, 6, 1}, 0.1f);
      },
      {random_tensor({4, 7}, 4, -2.f, 2.f)}, opt);
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return cross_entropy(x[0], {3, 4, 4}, 0.f);
      },
      {random_tensor({3, 5}, 5, -2.f, 2.f)}, opt);
}

TEST(CrossEntropy, GradientAccumulatesWhenLogitsUsedTwice) {
  // The second backward adds into a buffer the first one created.
  GradCheckOptions opt;
  opt.atol = 1e-3;
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return add(cross_entropy(x[0], {1, 2, 0}, 0.1f), cross_entropy(x[0], {4, 0, 3}, 0.3f));
      },
      {random_tensor({3, 6}, 6, -2.f, 2.f)}, opt);
}

TEST(CrossEntropy, BackwardIsSoftmaxMinusQAndZeroOnIgnoredRows) {
  const int64_t m = 40, v = 1000;  // above the OpenMP threshold
  Tensor x = random_tensor({m, v}, 7, -3.f, 3.f);
  std::vector<int32_t> t(m);
  for (int64_t r = 0; r < m; ++r) t[r] = r % 5 == 0 ? 0 : static_cast<int32_t>((r * 37) % v);
  const float eps = 0.1f;
  Var logits = leaf(x.clone(), true);
  Var loss = cross_entropy(logits, t, eps);
  Tensor seed = random_tensor({m}, 8);
  Tape::current().backward(loss, seed);
  const std::vector<double> lp = naive_log_softmax(x);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < v; ++j) {
      const int64_t i = r * v + j;
      if (t[r] == 0) {
        ASSERT_EQ(logits->grad[i], 0.f) << r << "," << j;
      } else {
        const double q = (j == t[r] ? 1.0 - eps : 0.0) + eps / v;
        ASSERT_NEAR(logits->grad[i], (std::exp(lp[i]) - q) * seed[r], 1e-6) << r << "," << j;
      }
    }
}

TEST(CrossEntropy, TargetLogProbsMatchNaive) {
  Tensor x = random_tensor({4, 9}, 9, -3.f, 3.f);
  const std::vector<int32_t> t = {0, 8, 3, 3};
  const std::vector<double> lp = naive_log_softmax(x);
  const std::vector<float> got = target_log_probs(x, t);
  ASSERT_EQ(got.size(), 4u);
  for (int64_t r = 0; r < 4; ++r) EXPECT_NEAR(got[r], lp[r * 9 + t[r]], 1e-5) << r;
}

TEST(CrossEntropy, Errors) {
  Var x = leaf(Tensor({3, 5}));
  testing::expect_error_containing([&] { cross_entropy(x, {1, 2}, 0.f); }, "[3, 5]");
  testing::expect_error_containing([&] { cross_entropy(x, {1, 5, 2}, 0.f); }, "target 5");
  testing::expect_error_containing([&] { cross_entropy(x, {1, -1, 2}, 0.f); }, "target -1");
  testing::expect_error_containing([&] { cross_entropy(x, {1, 2, 3}, 1.5f); }, "1.5");
  testing::expect_error_containing([] { cross_entropy(leaf(Tensor({5})), {1}, 0.f); }, "[5]");
  testing::expect_error_containing([] { target_log_probs(Tensor({2, 4}), {1, 4}); }, "target 4");
}

}  // namespace nmt
