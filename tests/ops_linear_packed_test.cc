// Packed fp32 weights for inference (ops/linear_packed.h): the product equals the
// plain one, a row's result does not depend on the other rows beyond rounding, and PackedScope switches
// exactly the gradient-free products with parameter weights, packing each once.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "core/context.h"
#include "core/error.h"
#include "op_helpers.h"
#include "ops/eltwise.h"
#include "ops/linear.h"
#include "ops/linear_packed.h"

namespace nmt {
using testing::expect_error_containing;
using testing::random_tensor;

namespace {

class LinearPackedTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { Context::get().set_threads(GetParam()); }
};

TEST_P(LinearPackedTest, EqualsThePlainProduct) {
  struct Case {
    Shape x;
    int64_t out;
    bool bias;
  };
  for (const Case& c : {Case{{1, 5}, 3, true}, Case{{7, 33}, 17, false}, Case{{64, 256}, 1000, true},
                        Case{{3, 5, 64}, 48, true}, Case{{320, 256}, 1024, false}}) {
    const int64_t in = c.x.back();
    Tensor x = random_tensor(c.x, 1), w = random_tensor({c.out, in}, 2), b = random_tensor({c.out}, 3);
    Shape ys = c.x;
    ys.back() = c.out;
    Tensor plain(ys), packed(ys);
    linear_forward(x, w, c.bias ? &b : nullptr, plain);
    PackedScope scope;
    linear_packed_forward(x, w, c.bias ? &b : nullptr, packed);
    for (int64_t i = 0; i < plain.numel(); ++i)
      ASSERT_NEAR(packed[i], plain[i], 1e-5f * (1.f + std::fabs(plain[i]))) << shape_str(c.x) << " element " << i;
  }
}

// A row's result does not depend on the batch beyond float rounding: the same sum in another
// order is within 2 (in + 1) 2^-24 (sum|x_k w_k| + |b|) of it. oneDNN's AVX-512 kernels add
// every row in the same order (bitwise equal, as measured); its AVX2 gemm picks kernels by
// row count, and a row in the tail of the batch is summed differently (docs/design.md).
TEST_P(LinearPackedTest, ARowsResultDoesNotDependOnTheBatch) {
  const int64_t rows = 64, in = 256, out = 520;
  Tensor x = random_tensor({rows, in}, 5), w = random_tensor({out, in}, 6), b = random_tensor({out}, 7);
  PackedScope scope;
  Tensor all({rows, out});
  linear_packed_forward(x, w, &b, all);
  for (int64_t r : {0, 17, 63}) {
    Tensor one({1, in}), y({1, out});
    for (int64_t k = 0; k < in; ++k) one[k] = x[r * in + k];
    linear_packed_forward(one, w, &b, y);
    for (int64_t j = 0; j < out; ++j) {
      double magnitude = std::fabs(b[j]);
      for (int64_t k = 0; k < in; ++k) magnitude += std::fabs(x[r * in + k] * w[j * in + k]);
      ASSERT_NEAR(y[j], all[r * out + j], 2.0 * (in + 1) * std::ldexp(1.0, -24) * magnitude)
          << "row " << r << ", column " << j;
    }
  }
}

TEST_P(LinearPackedTest, ScopeSwitchesOnlyGradientFreeProductsWithParameterWeights) {
  Tensor xv = random_tensor({4, 96}, 8), wv = random_tensor({200, 96}, 9), bv = random_tensor({200}, 10);
  Tensor ref({4, 200});
  linear_forward(xv, wv, &bv, ref);
  auto close = [&](const Tensor& y) {
    for (int64_t i = 0; i < y.numel(); ++i)
      if (std::fabs(y[i] - ref[i]) > 1e-5f * (1.f + std::fabs(ref[i]))) return false;
    return true;
  };
  Var w = leaf(wv), b = leaf(bv);
  {
    NoGradScope no_grad;
    EXPECT_TRUE(close(linear(leaf(xv), w, b)->value));
  }
  EXPECT_EQ(packed_weights_held(), 0) << "no scope: nothing packed";
  {
    PackedScope scope;
    std::optional<NoGradScope> no_grad(std::in_place);
    EXPECT_TRUE(close(linear(leaf(xv), w, b)->value));
    const int64_t held = packed_weights_held();
    EXPECT_GE(held, 1) << "a parameter's weights are packed";
    EXPECT_TRUE(close(linear(leaf(xv), w, b)->value));
    EXPECT_EQ(packed_weights_held(), held) << "and reused, not packed again";
    Var computed_w = relu(leaf(wv));  // an op's result, not a parameter
    Tensor computed_ref({4, 200});
    linear_forward(xv, computed_w->value, &bv, computed_ref);
    const Tensor y = linear(leaf(xv), computed_w, b)->value;
    for (int64_t i = 0; i < y.numel(); ++i) ASSERT_EQ(y[i], computed_ref[i]) << "computed weights stay plain";
    EXPECT_EQ(packed_weights_held(), held);
    no_grad.reset();  // gradients recorded: training reads the plain weights
    Var wg = leaf(wv, true);
    const Tensor trained = linear(leaf(xv), wg, b)->value;
    Tape::current().clear();
    for (int64_t i = 0; i < trained.numel(); ++i) ASSERT_EQ(trained[i], ref[i]) << "training reads plain weights";
    EXPECT_EQ(packed_weights_held(), held) << "training packs nothing";
  }
  EXPECT_EQ(packed_weights_held(), 0) << "the copies end with the scope";
}

TEST_P(LinearPackedTest, NeedsAScopeAndFittingShapes) {
  Tensor x = random_tensor({2, 16}, 11), w = random_tensor({8, 16}, 12), y({2, 8});
  expect_error_containing([&] { linear_packed_forward(x, w, nullptr, y); }, "PackedScope");
  PackedScope scope;
  Tensor bad = random_tensor({2, 15}, 13);
  expect_error_containing([&] { linear_packed_forward(bad, w, nullptr, y); }, "linear", "[2, 15]");
}

INSTANTIATE_TEST_SUITE_P(Threads, LinearPackedTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace nmt
