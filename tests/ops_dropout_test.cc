#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "gradcheck.h"
#include "ops/dropout.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

// ---------------- Rng ----------------

TEST(Rng, SameSeedSameSequenceOtherSeedOther) {
  Rng a(42), b(42), c(43);
  int same_c = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    same_c += x == c.next_u64();
  }
  EXPECT_EQ(same_c, 0);
}

TEST(Rng, StateSaveRestoreReproducesEverything) {
  Rng r(7);
  for (int i = 0; i < 10; ++i) r.next_u64();
  r.normal();  // leaves a spare normal in the state
  const std::string saved = r.state();
  auto draws = [](Rng& g) {
    std::vector<double> v;
    for (int i = 0; i < 20; ++i) {
      v.push_back(g.normal());
      v.push_back(g.uniform());
      v.push_back(double(g.next_u64()));
      v.push_back(double(g.below(17)));
    }
    return v;
  };
  const std::vector<double> first = draws(r);
  Rng other(999);
  other.set_state(saved);
  EXPECT_EQ(other.state(), saved);
  EXPECT_EQ(draws(other), first);
}

TEST(Rng, MalformedStateThrows) {
  Rng r(1);
  EXPECT_THROW(r.set_state(""), InputError);
  EXPECT_THROW(r.set_state("xoshiro256ss 1 2 3"), InputError);
  EXPECT_THROW(r.set_state("mt19937 1 2 3 4 0 0"), InputError);
  EXPECT_THROW(r.set_state("xoshiro256ss 0 0 0 0 0 0"), InputError);
  EXPECT_THROW(r.set_state(r.state() + " 5"), InputError);
  const std::string before = r.state();
  try {
    r.set_state("garbage");
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("garbage"), std::string::npos);
  }
  EXPECT_EQ(r.state(), before);  // a failed restore leaves the generator untouched
}

TEST(Rng, DistributionsLookRight) {
  Rng r(3);
  const int n = 100000;
  double su = 0, sn = 0, sn2 = 0;
  float lo = 1, hi = 0;
  std::vector<int> counts(5, 0);
  for (int i = 0; i < n; ++i) {
    const float u = r.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    su += u;
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
    counts[r.below(5)]++;
  }
  EXPECT_GE(lo, 0.f);
  EXPECT_LT(hi, 1.f);
  EXPECT_NEAR(su / n, 0.5, 0.01);
  EXPECT_NEAR(sn / n, 0.0, 0.02);
  EXPECT_NEAR(sn2 / n, 1.0, 0.03);
  for (int c : counts) EXPECT_NEAR(c, n / 5, n / 50);
  EXPECT_THROW(r.below(0), Error);
}

TEST(Rng, GlobalSeeding) {
  seed_global_rng(5);
  const uint64_t a = global_rng().next_u64();
  seed_global_rng(5);
  EXPECT_EQ(global_rng().next_u64(), a);
  EXPECT_EQ(Rng(5).next_u64(), a);
}

// ---------------- dropout ----------------

TEST(Dropout, IdentityWhenOffOrEval) {
  Rng r(1);
  Var x = leaf(random_tensor({10}, 1), true);
  const std::string before = r.state();
  EXPECT_EQ(dropout(x, 0.f, true, r), x);
  EXPECT_EQ(dropout(x, 0.5f, false, r), x);
  EXPECT_EQ(r.state(), before);  // no draws when nothing is dropped
  Tape::current().clear();
}

TEST(Dropout, DropsAboutPAndPreservesTheMean) {
  const float p = 0.3f;
  const int64_t n = 200000;
  Tensor ones = Tensor::full({n}, 1.0f);
  Rng r(11);
  NoGradScope ng;
  Var y = dropout(leaf(ones), p, true, r);
  int64_t dropped = 0;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = y->value[i];
    ASSERT_TRUE(v == 0.f || v == 1.0f / (1.0f - p)) << v;
    dropped += v == 0.f;
    s += v;
  }
  // Binomial(200000, 0.3): sd of the fraction ~0.001, so 0.006 is a 6-sigma margin.
  EXPECT_NEAR(double(dropped) / n, p, 0.006);
  EXPECT_NEAR(s / n, 1.0, 0.01);
}

TEST(Dropout, SameRngStateSameMaskIndependentOfThreads) {
  Tensor x = random_tensor({300, 200}, 2);
  NoGradScope ng;
  Rng a(9), b(9);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  Var ya = dropout(leaf(x), 0.4f, true, a);
  omp_set_num_threads(std::max(2, threads));
  Var yb = dropout(leaf(x), 0.4f, true, b);
  omp_set_num_threads(threads);
  EXPECT_EQ(ya->value.to_vector(), yb->value.to_vector());
  Var yc = dropout(leaf(x), 0.4f, true, a);  // next draw: another mask
  EXPECT_NE(ya->value.to_vector(), yc->value.to_vector());
}

TEST(Dropout, GradientIsTheMask) {
  // Piecewise linear with a fixed mask (a fresh Rng per evaluation): central differences
  // are exact up to rounding.
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        Rng r(21);
        return dropout(x[0], 0.5f, true, r);
      },
      {random_tensor({6, 5}, 3)});
  Rng r(4);
  Var x = leaf(random_tensor({1000}, 4, 0.5f, 1.f), true);
  Var y = dropout(x, 0.25f, true, r);
  Tape::current().backward(y, Tensor::full({1000}, 1.0f));
  for (int64_t i = 0; i < 1000; ++i) EXPECT_FLOAT_EQ(x->grad[i], y->value[i] / x->value[i]) << i;
}

TEST(Dropout, VariationalSharesMaskAlongAxis) {
  Tensor ones = Tensor::full({4, 6, 50}, 1.0f);
  Rng r(5);
  Var y = dropout(leaf(ones), 0.5f, true, r, 1);  // same mask at each of the 6 positions
  int zeros = 0;
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t c = 0; c < 50; ++c) {
      const float first = y->value[(b * 6) * 50 + c];
      zeros += first == 0.f;
      for (int64_t t = 1; t < 6; ++t) ASSERT_EQ(y->value[(b * 6 + t) * 50 + c], first);
    }
  EXPECT_GT(zeros, 50);
  EXPECT_LT(zeros, 150);
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        Rng rr(8);
        return dropout(x[0], 0.5f, true, rr, -2);
      },
      {random_tensor({2, 3, 4}, 6)});
}

TEST(Dropout, BadProbabilityThrows) {
  Rng r(1);
  Var x = leaf(Tensor({3}));
  EXPECT_THROW(dropout(x, 1.0f, true, r), Error);
  EXPECT_THROW(dropout(x, -0.1f, true, r), Error);
  EXPECT_THROW(dropout(x, NAN, true, r), Error);
  EXPECT_THROW(dropout(x, 0.5f, true, r, 1), Error);
}

}  // namespace nmt
