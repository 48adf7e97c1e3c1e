#include <gtest/gtest.h>

#include "core/error.h"
#include "core/ops/cross_entropy.h"
#include "core/ops/linear.h"
#include "core/ops/linear_cross_entropy.h"
#include "core/ops/reduce.h"
#include "gradcheck.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

namespace {
const std::vector<int32_t> kTargets = {3, 0, 5, 1, 6};  // row 1 is padding (ignored)
}

// Smooth in every input; eps 1e-2 on O(1) logits keeps the truncation error ~1e-4.
TEST(LinearCrossEntropyOp, Gradient) {
  expect_gradients_match(
      [](const std::vector<Var>& x) { return linear_cross_entropy(x[0], x[1], x[2], kTargets, 0.1f); },
      {random_tensor({5, 4}, 1), random_tensor({7, 4}, 2), random_tensor({7}, 3)}, {1e-2, 2e-3, 2e-2, {}});
}

TEST(LinearCrossEntropyOp, FusedEqualsComposed) {
  for (float eps : {0.0f, 0.1f}) {
    Tensor h = random_tensor({5, 4}, 4), w = random_tensor({7, 4}, 5), b = random_tensor({7}, 6);
    Tensor seed = random_tensor({5}, 7);
    Var hf = leaf(h.clone(), true), wf = leaf(w.clone(), true), bf = leaf(b.clone(), true);
    Var fused = linear_cross_entropy(hf, wf, bf, kTargets, eps);
    Tape::current().backward(fused, seed);
    Var hc = leaf(h.clone(), true), wc = leaf(w.clone(), true), bc = leaf(b.clone(), true);
    Var composed = cross_entropy(linear(hc, wc, bc), kTargets, eps);
    Tape::current().backward(composed, seed);
    for (int64_t i = 0; i < 5; ++i) EXPECT_NEAR(fused->value[i], composed->value[i], 1e-5);
    EXPECT_EQ(fused->value[1], 0.0f);
    for (auto [a, c] : {std::pair{hf, hc}, std::pair{wf, wc}, std::pair{bf, bc}})
      for (int64_t i = 0; i < a->grad.numel(); ++i) EXPECT_NEAR(a->grad[i], c->grad[i], 1e-5);
  }
}

TEST(LinearCrossEntropyOp, TargetOutsideVocabularyThrows) {
  EXPECT_THROW(linear_cross_entropy(leaf(random_tensor({2, 4}, 1)), leaf(random_tensor({7, 4}, 2)), Var(), {3, 7},
                                    0.1f),
               Error);
}

}  // namespace nmt
