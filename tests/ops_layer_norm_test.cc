#include <gtest/gtest.h>

#include <cmath>

#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/add.h"
#include "ops/layer_norm.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {

struct Ref {
  Tensor y, mean, var;
};

// Reference layer norm over the last axis in double (biased variance, as oneDNN).
Ref naive_layer_norm(const Tensor& x, const Tensor& g, const Tensor& b, float eps) {
  const int64_t c = x.dim(-1), rows = x.numel() / c;
  Ref r{Tensor(x.shape()), Tensor({rows}), Tensor({rows})};
  for (int64_t i = 0; i < rows; ++i) {
    const float* p = x.data() + i * c;
    double m = 0, v = 0;
    for (int64_t j = 0; j < c; ++j) m += p[j];
    m /= c;
    for (int64_t j = 0; j < c; ++j) v += (p[j] - m) * (p[j] - m);
    v /= c;
    r.mean[i] = static_cast<float>(m);
    r.var[i] = static_cast<float>(v);
    for (int64_t j = 0; j < c; ++j) r.y[i * c + j] = static_cast<float>((p[j] - m) / std::sqrt(v + eps) * g[j] + b[j]);
  }
  return r;
}

// Gradient checks: with inputs in [-1, 1] and C >= 8 the row standard deviation is
// ~0.5, so d2y/dx2 ~ 1/sigma^2 ~ 4 and d3y/dx3 ~ 10: eps = 1e-2 leaves a truncation
// error ~2e-4; float rounding adds ~1e-4. atol 2e-3 / rtol 2e-2 leaves margin, while a
// wrong formula (a missing mean or variance term) is off by O(0.1).
GradCheckOptions ln_opt() {
  GradCheckOptions opt;
  opt.eps = 1e-2;
  opt.atol = 2e-3;
  opt.rtol = 2e-2;
  return opt;
}

}  // namespace

TEST(LayerNormOp, ForwardMatchesLoop) {
  for (const Shape& s : {Shape{10}, Shape{3, 8}, Shape{2, 3, 37}}) {
    const int64_t c = s.back();
    Tensor x = random_tensor(s, 1, -3.f, 3.f), g = random_tensor({c}, 2), b = random_tensor({c}, 3);
    Ref ref = naive_layer_norm(x, g, b, 1e-5f);
    // Inference (no stats) and training (stats saved) forwards must agree with the loop.
    Tensor y(s), yt(s), mean({ref.mean.numel()}), var({ref.var.numel()});
    layer_norm_forward(x, g, b, 1e-5f, y);
    layer_norm_forward(x, g, b, 1e-5f, yt, &mean, &var);
    Tensor z = x.clone();
    layer_norm_forward(z, g, b, 1e-5f, z);  // in place
    for (int64_t i = 0; i < x.numel(); ++i) {
      EXPECT_NEAR(y[i], ref.y[i], 1e-4) << shape_str(s) << " at " << i;
      EXPECT_NEAR(yt[i], ref.y[i], 1e-4) << shape_str(s) << " at " << i;
      EXPECT_NEAR(z[i], ref.y[i], 1e-4) << "in place, at " << i;
    }
    for (int64_t i = 0; i < mean.numel(); ++i) {
      EXPECT_NEAR(mean[i], ref.mean[i], 1e-5);
      EXPECT_NEAR(var[i], ref.var[i], 1e-4);
    }
  }
}

TEST(LayerNormOp, VarOpHonoursEpsAndNoGrad) {
  Tensor x = random_tensor({4, 6}, 5, -0.01f, 0.01f), g = random_tensor({6}, 6), b = random_tensor({6}, 7);
  NoGradScope ng;
  // Tiny variance (~3e-5): eps = 1e-2 dominates it, so a dropped eps would show.
  Var y = layer_norm(leaf(x, true), leaf(g, true), leaf(b, true), 1e-2f);
  EXPECT_FALSE(y->requires_grad);
  Ref ref = naive_layer_norm(x, g, b, 1e-2f);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y->value[i], ref.y[i], 1e-5) << i;
}

TEST(LayerNormOp, Gradient) {
  for (const Shape& s : {Shape{8}, Shape{2, 3, 8}}) {
    SCOPED_TRACE(shape_str(s));
    expect_gradients_match([](const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); },
                           {random_tensor(s, 10), random_tensor({8}, 11, 0.5f, 1.5f), random_tensor({8}, 12)},
                           ln_opt());
  }
}

TEST(LayerNormOp, UsedTwiceAccumulates) {
  // x, gamma and beta each feed two layer norms (different eps, so two primitives).
  expect_gradients_match(
      [](const std::vector<Var>& v) { return add(layer_norm(v[0], v[1], v[2]), layer_norm(v[0], v[1], v[2], 1e-3f)); },
      {random_tensor({3, 8}, 20), random_tensor({8}, 21, 0.5f, 1.5f), random_tensor({8}, 22)}, ln_opt());
}

TEST(LayerNormOp, BackwardAddsToExistingGradients) {
  Tensor x = random_tensor({3, 8}, 30), g = random_tensor({8}, 31), b = random_tensor({8}, 32);
  Tensor dy = random_tensor({3, 8}, 33), y(x.shape()), mean({3}), var({3});
  layer_norm_forward(x, g, b, 1e-5f, y, &mean, &var);
  Tensor dx0 = Tensor::zeros(x.shape()), dg0 = Tensor::zeros({8}), db0 = Tensor::zeros({8});
  layer_norm_backward(x, g, mean, var, dy, 1e-5f, &dx0, &dg0, &db0);
  Tensor dx = Tensor::full(x.shape(), 1.f), dg = Tensor::full({8}, 2.f), db = Tensor::full({8}, 3.f);
  layer_norm_backward(x, g, mean, var, dy, 1e-5f, &dx, &dg, &db);
  for (int64_t i = 0; i < dx.numel(); ++i) EXPECT_NEAR(dx[i], dx0[i] + 1.f, 1e-5);
  for (int64_t j = 0; j < 8; ++j) {
    EXPECT_NEAR(dg[j], dg0[j] + 2.f, 1e-5);
    EXPECT_NEAR(db[j], db0[j] + 3.f, 1e-5);
    double sum = 0;  // dbeta is the column sum of dy
    for (int64_t r = 0; r < 3; ++r) sum += dy[r * 8 + j];
    EXPECT_NEAR(db0[j], sum, 1e-5);
  }
}

TEST(LayerNormOp, ShapeMismatchThrowsWithShapes) {
  testing::expect_error_containing(
      [] {
        layer_norm(leaf(Tensor({2, 8})), leaf(Tensor({7})), leaf(Tensor({8})));
      },
      "[2, 8]", "[7]");
  EXPECT_THROW(layer_norm(leaf(Tensor({2, 8})), leaf(Tensor({8})), leaf(Tensor({8, 1}))), Error);
  Tensor x({2, 8}), g({8}), y({2, 8}), mean({3}), var({3});
  EXPECT_THROW(layer_norm_forward(x, g, g, 1e-5f, y, &mean, &var), Error);  // stats of the wrong size
  EXPECT_THROW(layer_norm_forward(x, g, g, 1e-5f, y, &mean, nullptr), Error);
}

TEST(LayerNormOp, RepeatedCallsReuseTheCache) {
  testing::expect_cache_reused([] {
    Var x = leaf(random_tensor({5, 43}, 1), true);
    Var g = leaf(random_tensor({43}, 2), true), b = leaf(random_tensor({43}, 3), true);
    return layer_norm(x, g, b);
  });
}

}  // namespace nmt
