#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

// R-Drop's twins: rows m and m + 3 share a target (row 1's twin pair is padding). Checked through
// several chunks, with a summed loss (the forward's products) and per-row loss gradients
// (recomputed), the two backward paths.
const std::vector<int32_t> kTwinTargets = {3, 0, 5, 3, 0, 5};

TEST(LinearCrossEntropyOp, TwinGradient) {
  for (int64_t chunk : {int64_t{0}, int64_t{2}})
    for (bool summed : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "chunk " << chunk << " summed " << summed);
      expect_gradients_match(
          [&](const std::vector<Var>& x) {
            Var l = linear_cross_entropy(x[0], x[1], x[2], kTwinTargets, 0.1f, 0, chunk, 2.0f);
            return summed ? sum(l) : l;
          },
          {random_tensor({6, 4}, 21), random_tensor({7, 4}, 22), random_tensor({7}, 23)}, {1e-2, 2e-3, 2e-2, {}});
    }
}

// Each twin's loss is its cross-entropy plus twin_kl / 4 of the symmetric KL between the twins'
// softmaxes, computed here in double from the composed logits.
TEST(LinearCrossEntropyOp, TwinLossIsCrossEntropyPlusAQuarterOfTheSymmetricKl) {
  const float twin_kl = 1.5f;
  Tensor h = random_tensor({6, 4}, 24), w = random_tensor({7, 4}, 25);
  NoGradScope ng;
  Var fused = linear_cross_entropy(leaf(h.clone()), leaf(w.clone()), Var(), kTwinTargets, 0.1f, 0, 0, twin_kl);
  Var logits = linear(leaf(h.clone()), leaf(w.clone()), Var());
  Var ce = cross_entropy(logits, kTwinTargets, 0.1f);
  auto log_softmax = [&](int64_t m) {
    std::vector<double> l(7);
    double mx = -1e30, z = 0;
    for (int v = 0; v < 7; ++v) mx = std::max(mx, double(logits->value[m * 7 + v]));
    for (int v = 0; v < 7; ++v) z += std::exp(logits->value[m * 7 + v] - mx);
    for (int v = 0; v < 7; ++v) l[v] = logits->value[m * 7 + v] - mx - std::log(z);
    return l;
  };
  for (int64_t m = 0; m < 3; ++m) {
    const std::vector<double> la = log_softmax(m), lb = log_softmax(m + 3);
    double sym = 0;
    for (int v = 0; v < 7; ++v) sym += (std::exp(la[v]) - std::exp(lb[v])) * (la[v] - lb[v]);
    EXPECT_GT(sym, 1e-3) << m;  // the twins' hidden states differ
    const double extra = kTwinTargets[m] == 0 ? 0.0 : twin_kl / 4 * sym;
    EXPECT_NEAR(fused->value[m], ce->value[m] + extra, 1e-5) << m;
    EXPECT_NEAR(fused->value[m + 3], ce->value[m + 3] + extra, 1e-5) << m;
  }
}

// Twins seen through the same mask (equal hidden rows) agree: no term, no extra gradient.
TEST(LinearCrossEntropyOp, IdenticalTwinsGiveThePlainLossAndGradient) {
  Tensor half = random_tensor({3, 4}, 26), w = random_tensor({7, 4}, 27), h({6, 4});
  for (int64_t i = 0; i < 12; ++i) h[i] = h[i + 12] = half[i];
  Var ht = leaf(h.clone(), true), hp = leaf(h.clone(), true);
  Var twin = linear_cross_entropy(ht, leaf(w.clone()), Var(), kTwinTargets, 0.1f, 0, 0, 3.0f);
  Tape::current().backward(sum(twin));
  Var plain = linear_cross_entropy(hp, leaf(w.clone()), Var(), kTwinTargets, 0.1f);
  Tape::current().backward(sum(plain));
  for (int64_t m = 0; m < 6; ++m) EXPECT_NEAR(twin->value[m], plain->value[m], 1e-6) << m;
  for (int64_t i = 0; i < 24; ++i) EXPECT_NEAR(ht->grad[i], hp->grad[i], 1e-6) << i;
}

TEST(LinearCrossEntropyOp, TwinsNeedEqualTargetsAndAnEvenRowCount) {
  Tensor h = random_tensor({6, 4}, 1), w = random_tensor({7, 4}, 2);
  EXPECT_THROW(linear_cross_entropy(leaf(h), leaf(w), Var(), {3, 0, 5, 3, 0, 4}, 0.1f, 0, 0, 1.0f), Error);
  EXPECT_THROW(linear_cross_entropy(leaf(h.rows(0, 5)), leaf(w), Var(), {3, 0, 5, 3, 0}, 0.1f, 0, 0, 1.0f), Error);
  EXPECT_THROW(linear_cross_entropy(leaf(h), leaf(w), Var(), kTwinTargets, 0.1f, 0, 0, -1.0f), Error);
}

TEST(LinearCrossEntropyOp, TargetOutsideVocabularyThrows) {
  EXPECT_THROW(
      linear_cross_entropy(leaf(random_tensor({2, 4}, 1)), leaf(random_tensor({7, 4}, 2)), Var(), {3, 7}, 0.1f), Error);
  EXPECT_THROW(
      linear_cross_entropy(leaf(random_tensor({2, 4}, 1)), leaf(random_tensor({7, 4}, 2)), Var(), {3, 1}, 0.1f, 0, -1),
      Error);
}

}  // namespace nmt
