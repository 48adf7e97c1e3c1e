#include <gtest/gtest.h>

#include "core/error.h"
#include "gradcheck.h"
#include "ops/cross_entropy.h"
#include "ops/linear.h"
#include "ops/linear_cross_entropy.h"
#include "ops/reduce.h"

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

// The backward's two paths against the composed ops, through several chunks: a dloss equal on
// every row (a summed loss: the products taken in the forward are scaled) and per-row dloss
// (the logits are recomputed).
TEST(LinearCrossEntropyOp, ChunkedFusedEqualsComposedForUniformAndPerRowLossGradients) {
  const std::vector<int32_t> targets = {3, 0, 5, 1, 6, 2, 0, 4, 6, 1, 2};  // rows 1 and 6 are padding
  const int64_t M = static_cast<int64_t>(targets.size());
  Tensor h = random_tensor({M, 4}, 8), w = random_tensor({7, 4}, 9), b = random_tensor({7}, 10);
  for (bool uniform : {true, false})
    for (int64_t chunk : {int64_t{0}, int64_t{1}, int64_t{3}, int64_t{64}}) {
      SCOPED_TRACE(::testing::Message() << "uniform " << uniform << " chunk " << chunk);
      Tensor seed = uniform ? Tensor::full({M}, 0.37f) : random_tensor({M}, 11);
      Var hf = leaf(h.clone(), true), wf = leaf(w.clone(), true), bf = leaf(b.clone(), true);
      Var fused = linear_cross_entropy(hf, wf, bf, targets, 0.1f, 0, chunk);
      Tape::current().backward(fused, seed);
      Var hc = leaf(h.clone(), true), wc = leaf(w.clone(), true), bc = leaf(b.clone(), true);
      Var composed = cross_entropy(linear(hc, wc, bc), targets, 0.1f);
      Tape::current().backward(composed, seed);
      for (int64_t i = 0; i < M; ++i) EXPECT_NEAR(fused->value[i], composed->value[i], 1e-5) << i;
      for (auto [a, c] : {std::pair{hf, hc}, std::pair{wf, wc}, std::pair{bf, bc}})
        for (int64_t i = 0; i < a->grad.numel(); ++i) EXPECT_NEAR(a->grad[i], c->grad[i], 1e-5) << i;
      for (int64_t i = 0; i < 4; ++i) {  // padding rows get no gradient
        EXPECT_EQ(hf->grad[1 * 4 + i], 0.f);
        EXPECT_EQ(hf->grad[6 * 4 + i], 0.f);
      }
    }
}

// The default chunking spreads the rows evenly over as many chunks as the logits need (8,000 classes: 3 chunks of
// about 400 rows for 1,199 counted rows): the same losses and gradients as one chunk of every row.
TEST(LinearCrossEntropyOp, DefaultChunksEqualOneChunk) {
  const int64_t M = 1201, V = 8000, E = 4;
  std::vector<int32_t> targets(M);
  for (int64_t m = 0; m < M; ++m) targets[m] = m % 2 == 1 && m < 4 ? 0 : static_cast<int32_t>((m * 37) % (V - 1) + 1);
  Tensor h = random_tensor({M, E}, 14), w = random_tensor({V, E}, 15);
  for (bool uniform : {true, false}) {
    SCOPED_TRACE(::testing::Message() << "uniform " << uniform);
    const Tensor seed = uniform ? Tensor::full({M}, 0.5f) : random_tensor({M}, 16);
    std::vector<std::pair<Var, Var>> runs;  // (h, w) of the default chunking, then of one chunk
    std::vector<Var> losses;
    for (int64_t chunk : {int64_t{0}, M}) {
      Var hl = leaf(h.clone(), true), wl = leaf(w.clone(), true);
      losses.push_back(linear_cross_entropy(hl, wl, Var(), targets, 0.1f, 0, chunk));
      Tape::current().backward(losses.back(), seed);
      runs.emplace_back(hl, wl);
    }
    for (int64_t i = 0; i < M; ++i) EXPECT_NEAR(losses[0]->value[i], losses[1]->value[i], 1e-5) << i;
    for (int64_t i = 0; i < M * E; ++i) EXPECT_NEAR(runs[0].first->grad[i], runs[1].first->grad[i], 1e-5) << i;
    for (int64_t i = 0; i < V * E; ++i) EXPECT_NEAR(runs[0].second->grad[i], runs[1].second->grad[i], 1e-5) << i;
  }
}

// Without a recorded gradient (validation, scoring) only the losses are computed.
TEST(LinearCrossEntropyOp, LossesWithoutGradientsEqualTheTrainingForward) {
  const std::vector<int32_t> targets = {3, 0, 5, 1, 6};
  Tensor h = random_tensor({5, 4}, 12), w = random_tensor({7, 4}, 13);
  Var trained = linear_cross_entropy(leaf(h.clone(), true), leaf(w.clone(), true), Var(), targets, 0.1f, 0, 2);
  Tape::current().clear();
  NoGradScope ng;
  Var plain = linear_cross_entropy(leaf(h.clone()), leaf(w.clone()), Var(), targets, 0.1f, 0, 2);
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(plain->value[i], trained->value[i]) << i;
}

TEST(LinearCrossEntropyOp, TargetOutsideVocabularyThrows) {
  EXPECT_THROW(
      linear_cross_entropy(leaf(random_tensor({2, 4}, 1)), leaf(random_tensor({7, 4}, 2)), Var(), {3, 7}, 0.1f), Error);
  EXPECT_THROW(
      linear_cross_entropy(leaf(random_tensor({2, 4}, 1)), leaf(random_tensor({7, 4}, 2)), Var(), {3, 1}, 0.1f, 0, -1),
      Error);
}

}  // namespace nmt
