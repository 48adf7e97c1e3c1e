#include <gtest/gtest.h>

#include "core/error.h"
#include "gradcheck.h"
#include "ops/reduce.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

TEST(Reduce, SumAndMeanForward) {
  Tensor x = random_tensor({3, 7}, 1);
  double s = 0;
  for (int64_t i = 0; i < x.numel(); ++i) s += x[i];
  NoGradScope ng;
  Var a = sum(leaf(x)), m = mean(leaf(x));
  EXPECT_EQ(a->value.shape(), Shape({1}));
  EXPECT_EQ(m->value.shape(), Shape({1}));
  EXPECT_NEAR(a->value[0], s, 1e-5);
  EXPECT_NEAR(m->value[0], s / 21, 1e-6);
}

TEST(Reduce, LargeSumIsAccurate) {
  // 200k elements of 0.1: a float running sum drifts visibly; the double accumulation does not.
  Tensor x = Tensor::full({200000}, 0.1f);
  NoGradScope ng;
  EXPECT_NEAR(sum(leaf(x))->value[0], 200000 * double(0.1f), 0.01);
  EXPECT_NEAR(mean(leaf(x))->value[0], 0.1f, 1e-6);
}

// Both are linear: central differences are exact up to rounding of the forward sum.
TEST(Reduce, Gradients) {
  expect_gradients_match([](const std::vector<Var>& x) { return sum(x[0]); }, {random_tensor({4, 5}, 2)});
  expect_gradients_match([](const std::vector<Var>& x) { return mean(x[0]); }, {random_tensor({4, 5}, 3)});
}

TEST(Reduce, MeanOfEmptyThrows) {
  try {
    mean(leaf(Tensor({0, 3})));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[0, 3]"), std::string::npos) << e.what();
  }
  NoGradScope ng;
  EXPECT_EQ(sum(leaf(Tensor({0, 3})))->value[0], 0.f);
}

}  // namespace nmt
