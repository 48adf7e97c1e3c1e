#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/elementwise.h"
#include "ops/mask.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

namespace {
// Naive softmax over the last axis, in float like the real one.
Tensor naive_softmax(const Tensor& x) {
  const int64_t cols = x.dim(-1), rows = x.numel() / cols;
  Tensor y(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    float mx = x[r * cols];
    for (int64_t k = 1; k < cols; ++k) mx = std::max(mx, x[r * cols + k]);
    float s = 0;
    for (int64_t k = 0; k < cols; ++k) s += (y[r * cols + k] = std::exp(x[r * cols + k] - mx));
    for (int64_t k = 0; k < cols; ++k) y[r * cols + k] /= s;
  }
  return y;
}

// Expected keep-pattern, written independently of the op.
bool kept(const Tensor& key_mask, bool causal, int64_t n, int64_t q, int64_t k, int64_t tq, int64_t tk) {
  if (!key_mask.empty() && key_mask[n * tk + k] == 0.f) return false;
  return !causal || k <= q + (tk - tq);
}
}  // namespace

TEST(MaskScores, PaddingAndCausalGiveExactZeros) {
  const int64_t n = 2, g = 3, t = 4;
  Tensor scores = random_tensor({n, g, t, t}, 1, -5.f, 5.f);
  Tensor key_mask = Tensor::from({n, t}, {1, 1, 1, 1, 1, 1, 0, 0});
  for (bool causal : {false, true}) {
    NoGradScope ng;
    Var m = mask_scores(leaf(scores), key_mask, causal);
    Tensor p = naive_softmax(m->value);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t h = 0; h < g; ++h)
        for (int64_t q = 0; q < t; ++q) {
          double row = 0;
          for (int64_t k = 0; k < t; ++k) {
            const int64_t i = ((b * g + h) * t + q) * t + k;
            row += p[i];
            if (kept(key_mask, causal, b, q, k, t, t)) {
              EXPECT_EQ(m->value[i], scores[i]);
              EXPECT_GT(p[i], 0.f);
            } else {
              EXPECT_EQ(m->value[i], kMaskedScore);
              EXPECT_EQ(p[i], 0.f) << "b" << b << " h" << h << " q" << q << " k" << k << " causal " << causal;
            }
          }
          EXPECT_NEAR(row, 1.0, 1e-5);
        }
  }
}

TEST(MaskScores, CausalWithCachedPrefixAndNoPadding) {
  // Tq = 2 new queries after a prefix of 3: query q sees keys k <= q + 3.
  Tensor scores = random_tensor({1, 1, 2, 5}, 2);
  NoGradScope ng;
  Var m = mask_scores(leaf(scores), Tensor(), true);
  for (int64_t q = 0; q < 2; ++q)
    for (int64_t k = 0; k < 5; ++k)
      EXPECT_EQ(m->value[q * 5 + k], k <= q + 3 ? scores[q * 5 + k] : kMaskedScore) << q << "," << k;
  // No mask at all: the identity.
  Var id = mask_scores(leaf(scores), Tensor(), false);
  EXPECT_EQ(id->value.to_vector(), scores.to_vector());
}

TEST(MaskScores, GradientPassesOnlyUnmaskedEntries) {
  Tensor key_mask = Tensor::from({2, 3}, {1, 0, 1, 1, 1, 0});
  // The op is a selection (linear): central differences are exact up to rounding. The masked
  // outputs (-1e30) would swamp the double loss sum and its finite differences, so the checked
  // function multiplies them by 0 (and the kept ones by 1); the exact check below covers the
  // zero gradient at masked entries directly.
  Tensor keep({2, 2, 3, 3});
  for (int64_t i = 0; i < keep.numel(); ++i) keep[i] = kept(key_mask, true, i / 18, i / 3 % 3, i % 3, 3, 3) ? 1.f : 0.f;
  expect_gradients_match([&](const std::vector<Var>& x) { return mul(mask_scores(x[0], key_mask, true), leaf(keep)); },
                         {random_tensor({2, 2, 3, 3}, 3)});
  Var s = leaf(random_tensor({2, 2, 3, 3}, 4), true);
  Var m = mask_scores(s, key_mask, true);
  Tensor seed = random_tensor(m->value.shape(), 5);
  Tape::current().backward(m, seed);
  for (int64_t i = 0; i < s->value.numel(); ++i) EXPECT_EQ(s->grad[i], keep[i] * seed[i]) << i;
}

TEST(MaskScores, LargeMatchesExpectedPattern) {
  // Above the OpenMP threshold.
  const int64_t n = 4, g = 8, t = 40;
  Tensor scores = random_tensor({n, g, t, t}, 5);
  Tensor key_mask({n, t});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < t; ++k) key_mask[b * t + k] = k < t - 7 * b ? 1.f : 0.f;
  Tensor out(scores.shape());
  mask_scores_forward(scores, key_mask, true, out);
  for (int64_t i = 0; i < scores.numel(); ++i) {
    const int64_t k = i % t, q = i / t % t, b = i / (g * t * t);
    ASSERT_EQ(out[i], kept(key_mask, true, b, q, k, t, t) ? scores[i] : kMaskedScore) << i;
  }
}

TEST(MaskScores, Errors) {
  Var s = leaf(Tensor({2, 1, 3, 4}));
  testing::expect_error_containing([&] { mask_scores(s, Tensor({2, 3}), false); }, "[2, 3]");
  testing::expect_error_containing([&] { mask_scores(s, Tensor({3, 4}), false); }, "[2, 1, 3, 4]");
  testing::expect_error_containing([] { mask_scores(leaf(Tensor({2, 3, 4})), Tensor(), false); }, "[2, 3, 4]");
  testing::expect_error_containing([] { mask_scores(leaf(Tensor({1, 1, 4, 3})), Tensor(), true); }, "[1, 1, 4, 3]");
}

}  // namespace nmt
