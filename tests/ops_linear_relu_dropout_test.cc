#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "gradcheck.h"
#include "ops/dropout.h"
#include "ops/eltwise.h"
#include "ops/linear.h"
#include "ops/linear_relu_dropout.h"
#include "ops/matmul.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::GradCheckOptions;
using testing::random_tensor;

namespace {

struct Pass {
  Tensor h, dx, dw, db;
};

// Forward and backward (seeded with a fixed output gradient) of either the fused op or the
// composed linear -> relu -> dropout, with the same Rng seed.
Pass run(bool fused, const Tensor& x, const Tensor& w, const Tensor& b, float p, bool training) {
  Tape::current().clear();
  Var vx = leaf(x.clone(), true), vw = leaf(w.clone(), true), vb = leaf(b.clone(), true);
  Rng rng(7);
  Var h =
      fused ? linear_relu_dropout(vx, vw, vb, p, training, rng) : dropout(relu(linear(vx, vw, vb)), p, training, rng);
  Pass r{h->value.clone(), {}, {}, {}};
  Tape::current().backward(h, random_tensor(h->value.shape(), 99));
  r.dx = vx->grad.clone(), r.dw = vw->grad.clone(), r.db = vb->grad.clone();
  return r;
}

void expect_near(const Tensor& a, const Tensor& b, float tol, const char* what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(a[i], b[i], tol) << what << " at " << i;
}

}  // namespace

// The fused op is a rewrite of the composed ops, not a new function: same h (the same dropout
// units, drawn from the same Rng state) and the same gradients, with and without dropout.
TEST(LinearReluDropout, FusedEqualsComposed) {
  const Tensor x = random_tensor({3, 5, 16}, 1), w = random_tensor({32, 16}, 2, -0.5f, 0.5f),
               b = random_tensor({32}, 3, -0.2f, 0.2f);
  for (float p : {0.0f, 0.3f})
    for (bool training : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "p " << p << " training " << training);
      const Pass f = run(true, x, w, b, p, training), c = run(false, x, w, b, p, training);
      expect_near(f.h, c.h, 1e-6f, "h");
      expect_near(f.dx, c.dx, 1e-5f, "dx");
      expect_near(f.dw, c.dw, 1e-5f, "dW");
      expect_near(f.db, c.db, 1e-5f, "db");
      int zeros = 0;
      for (int64_t i = 0; i < f.h.numel(); ++i) zeros += f.h[i] == 0.f;
      EXPECT_GT(zeros, 0);  // relu (and dropout) did cut something: the masks were exercised
    }
}

TEST(LinearReluDropout, DropoutOnlyWhenTrainingAndAsDropoutDraws) {
  const Tensor x = random_tensor({40, 8}, 4), w = random_tensor({64, 8}, 5), b = random_tensor({64}, 6);
  const Pass train = run(true, x, w, b, 0.5f, true), eval = run(true, x, w, b, 0.5f, false);
  int dropped = 0, positive = 0;
  for (int64_t i = 0; i < eval.h.numel(); ++i) {
    if (eval.h[i] > 0.f) {
      ++positive;
      if (train.h[i] == 0.f)
        ++dropped;
      else
        EXPECT_FLOAT_EQ(train.h[i], 2.f * eval.h[i]);  // kept units are scaled by 1 / (1 - p)
    }
  }
  EXPECT_GT(dropped, positive / 4);
  EXPECT_LT(dropped, 3 * positive / 4);
}

TEST(LinearReluDropout, GradientsMatchFiniteDifferences) {
  for (float p : {0.0f, 0.25f}) {
    SCOPED_TRACE(::testing::Message() << "p " << p);
    auto f = [p](const std::vector<Var>& v) {
      Rng rng(11);  // the same dropout units in every evaluation
      return linear_relu_dropout(v[0], v[1], v[2], p, true, rng);
    };
    GradCheckOptions opt;
    opt.eps = 1e-3;  // small, so that no product crosses relu's kink
    opt.atol = 2e-3;
    opt.rtol = 1e-2;
    expect_gradients_match(f, {random_tensor({2, 3, 6}, 21), random_tensor({10, 6}, 22), random_tensor({10}, 23)}, opt);
  }
}

TEST(LinearReluDropout, BackwardKernelPassesOnlyPositiveOutputsScaled) {
  const Tensor h = Tensor::from({5}, {0.f, 2.f, 0.f, 0.5f, 3.f}), dh = Tensor::from({5}, {1.f, 2.f, 3.f, 4.f, 5.f});
  Tensor dz({5});
  relu_dropout_backward(h, dh, 0.5f, dz);
  const std::vector<float> want = {0.f, 4.f, 0.f, 8.f, 10.f};
  for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(dz[i], want[i]) << i;
}

TEST(LinearReluDropout, BadInputsThrow) {
  Tensor h({4}), dh({4}), dz({3});
  EXPECT_THROW(relu_dropout_backward(h, dh, 0.1f, dz), Error);
  Tensor dz4({4});
  EXPECT_THROW(relu_dropout_backward(h, dh, 1.0f, dz4), Error);
  Rng rng(1);
  EXPECT_THROW(
      linear_relu_dropout(leaf(Tensor::zeros({2, 3}), true), leaf(Tensor::zeros({4, 3})), Var(), -0.1f, true, rng),
      Error);
  EXPECT_THROW(
      linear_relu_dropout(leaf(Tensor::zeros({2, 3}), true), leaf(Tensor::zeros({4, 5})), Var(), 0.1f, true, rng),
      Error);
  float out[4];
  const float a[4] = {1, 2, 3, 4};
  EXPECT_THROW(matmul_raw({a, 1, 2, 2, false}, {a, 1, 2, 2, false}, out, 1.0f, true, nullptr, true), Error);
}

// Through the matmul itself: the relu post-op equals max(0, .) of the plain product.
TEST(LinearReluDropout, ReluPostOpEqualsReluOfProduct) {
  const Tensor x = random_tensor({7, 9}, 31), w = random_tensor({12, 9}, 32), b = random_tensor({12}, 33);
  Tensor y({7, 12}), yr({7, 12});
  linear_forward(x, w, &b, y);
  linear_relu_forward(x, w, &b, yr);
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_FLOAT_EQ(yr[i], std::max(0.f, y[i])) << i;
}

}  // namespace nmt
