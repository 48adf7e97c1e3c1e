#include <gtest/gtest.h>

#include <string>

#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/matmul.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {

// Reference: alpha * op(A) op(B) with plain loops; B of rank 2 is shared by every batch.
Tensor naive_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, float alpha) {
  const int64_t ar = a.dim(-2), ac = a.dim(-1), br = b.dim(-2), bc = b.dim(-1);
  const int64_t M = ta ? ac : ar, K = ta ? ar : ac, N = tb ? br : bc;
  const int64_t batch = a.numel() / (ar * ac);
  const bool shared = b.rank() == 2 && a.rank() > 2;
  Shape cs(a.shape().begin(), a.shape().end() - 2);
  cs.push_back(M);
  cs.push_back(N);
  Tensor c = Tensor::zeros(cs);
  for (int64_t s = 0; s < batch; ++s) {
    const float* pa = a.data() + s * ar * ac;
    const float* pb = b.data() + (shared ? 0 : s * br * bc);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double sum = 0;
        for (int64_t k = 0; k < K; ++k) {
          const float x = ta ? pa[k * ac + i] : pa[i * ac + k];
          const float y = tb ? pb[j * bc + k] : pb[k * bc + j];
          sum += double(x) * y;
        }
        c[s * M * N + i * N + j] = static_cast<float>(alpha * sum);
      }
  }
  return c;
}

struct Case {
  Shape a, b;
  bool ta, tb;
  float alpha;
};

// Every layout the op supports: 2D, batched rank 3 and 4, shared (rank-2) B, each with
// all four transpose combinations, and a non-unit alpha.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const auto sh = testing::stored_shape;
      // M = 3, K = 4, N = 5
      out.push_back({sh(ta, {}, 3, 4), sh(tb, {}, 4, 5), ta, tb, 1.0f});
      out.push_back({sh(ta, {2}, 3, 4), sh(tb, {2}, 4, 5), ta, tb, 0.5f});
      out.push_back({sh(ta, {2, 3}, 3, 4), sh(tb, {2, 3}, 4, 5), ta, tb, 1.0f});
      out.push_back({sh(ta, {3}, 3, 4), sh(tb, {}, 4, 5), ta, tb, 1.0f});
      out.push_back({sh(ta, {2, 2}, 3, 4), sh(tb, {}, 4, 5), ta, tb, -2.0f});
    }
  return out;
}

std::string describe(const Case& c) {
  return cat("A ", shape_str(c.a), " ta=", c.ta, " B ", shape_str(c.b), " tb=", c.tb, " alpha=", c.alpha);
}

}  // namespace

TEST(MatmulOp, ForwardMatchesLoop) {
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    Tensor a = random_tensor(c.a, seed++), b = random_tensor(c.b, seed++);
    NoGradScope ng;
    Var out = matmul(leaf(a), leaf(b), c.ta, c.tb, c.alpha);
    Tensor ref = naive_matmul(a, b, c.ta, c.tb, c.alpha);
    ASSERT_EQ(out->value.shape(), ref.shape()) << describe(c);
    EXPECT_FALSE(out->requires_grad);
    for (int64_t i = 0; i < ref.numel(); ++i) EXPECT_NEAR(out->value[i], ref[i], 1e-5) << describe(c) << " at " << i;
  }
}

TEST(MatmulOp, LargerForwardMatchesLoop) {
  // Sizes beyond one SIMD register / kernel block, so the blocked oneDNN paths run.
  for (bool tb : {false, true}) {
    Tensor a = random_tensor({3, 37, 70}, 5), b = random_tensor(tb ? Shape{3, 45, 70} : Shape{3, 70, 45}, 6);
    Tensor c(matmul_shape(a.shape(), b.shape(), false, tb));
    matmul_forward(a, b, c, false, tb);
    Tensor ref = naive_matmul(a, b, false, tb, 1.0f);
    for (int64_t i = 0; i < ref.numel(); ++i) ASSERT_NEAR(c[i], ref[i], 1e-4) << "tb=" << tb << " at " << i;
  }
}

TEST(MatmulOp, ForwardAccumulates) {
  Tensor a = random_tensor({2, 3, 4}, 7), b = random_tensor({4, 5}, 8);
  Tensor c = random_tensor({2, 3, 5}, 9);
  Tensor before = c.clone();
  matmul_forward(a, b, c, false, false, 0.5f, /*accumulate=*/true);
  Tensor ref = naive_matmul(a, b, false, false, 0.5f);
  for (int64_t i = 0; i < c.numel(); ++i) EXPECT_NEAR(c[i], before[i] + ref[i], 1e-5);
}

TEST(MatmulOp, EmptyInnerDimensionGivesZeros) {
  Tensor a({3, 0}), b({0, 2});
  Tensor c = Tensor::full({3, 2}, 7.f);
  matmul_forward(a, b, c);
  for (int64_t i = 0; i < c.numel(); ++i) EXPECT_EQ(c[i], 0.f);
  Tensor e({0, 2});
  matmul_forward(Tensor({0, 4}), random_tensor({4, 2}, 1), e);  // no rows: nothing to do, no crash
}

// matmul is bilinear, so central differences are exact up to float rounding of the
// forward passes; eps = 0.1 keeps that rounding (~1e-6 in the loss) far below atol.
TEST(MatmulOp, Gradient) {
  GradCheckOptions opt;
  opt.eps = 0.1;
  opt.atol = 2e-4;
  opt.rtol = 1e-3;
  uint64_t seed = 100;
  for (const Case& c : cases()) {
    SCOPED_TRACE(describe(c));
    expect_gradients_match([&](const std::vector<Var>& x) { return matmul(x[0], x[1], c.ta, c.tb, c.alpha); },
                           {random_tensor(c.a, seed), random_tensor(c.b, seed + 1)}, opt);
    seed += 2;
  }
}

TEST(MatmulOp, UsedTwiceAccumulates) {
  GradCheckOptions opt;
  opt.eps = 1e-2;  // x x^T is quadratic in x: central differences are still exact
  opt.atol = 5e-4;
  expect_gradients_match([](const std::vector<Var>& x) { return matmul(x[0], x[0], false, true); },
                         {random_tensor({2, 3, 4}, 11)}, opt);
  expect_gradients_match([](const std::vector<Var>& x) { return matmul(x[0], x[0], true, false, 0.5f); },
                         {random_tensor({4, 3}, 12)}, opt);
}

TEST(MatmulOp, BackwardAddsToExistingGradients) {
  // Shared B with a transposed A takes the scratch-and-sum path for dB; the others
  // accumulate through the sum post-op. Both must add, never overwrite.
  for (bool ta : {false, true}) {
    Tensor a = random_tensor(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, 21), b = random_tensor({4, 5}, 22);
    Tensor dc = random_tensor({2, 3, 5}, 23);
    Tensor da0 = Tensor::zeros(a.shape()), db0 = Tensor::zeros(b.shape());
    matmul_backward(a, b, dc, &da0, &db0, ta, false);
    Tensor da = Tensor::full(a.shape(), 1.f), db = Tensor::full(b.shape(), -2.f);
    matmul_backward(a, b, dc, &da, &db, ta, false);
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(da[i], da0[i] + 1.f, 1e-5) << "ta=" << ta;
    for (int64_t i = 0; i < b.numel(); ++i) EXPECT_NEAR(db[i], db0[i] - 2.f, 1e-5) << "ta=" << ta;
  }
}

TEST(MatmulOp, ShapeMismatchThrowsWithShapes) {
  auto message = [](const Shape& a, const Shape& b, bool ta = false, bool tb = false) {
    try {
      matmul(leaf(Tensor(a)), leaf(Tensor(b)), ta, tb);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no throw");
  };
  std::string m = message({2, 3}, {4, 5});
  EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  m = message({2, 3, 4}, {3, 4, 5});  // batch dims differ
  EXPECT_NE(m.find("[2, 3, 4]"), std::string::npos) << m;
  EXPECT_NE(m.find("[3, 4, 5]"), std::string::npos) << m;
  EXPECT_NE(message({3, 4}, {5, 4}, false, false), "no throw");
  EXPECT_EQ(message({3, 4}, {5, 4}, false, true), "no throw");  // the same pair, transposed, fits
  EXPECT_NE(message({4}, {4, 5}), "no throw");                  // rank 1
  EXPECT_NE(message({3, 4}, {2, 4, 5}), "no throw");            // batched B with 2D A
  Tensor wrong_out({2, 5});
  EXPECT_THROW(matmul_forward(Tensor({2, 3}), Tensor({3, 4}), wrong_out), Error);
}

TEST(MatmulOp, RepeatedCallsReuseTheCache) {
  testing::expect_cache_reused([] {
    Var a = leaf(random_tensor({3, 13, 17}, 31), true), b = leaf(random_tensor({3, 19, 17}, 32), true);
    return matmul(a, b, false, true, 0.25f);
  });
}

}  // namespace nmt
