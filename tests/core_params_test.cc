#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "core/error.h"
#include "core/params.h"
#include "op_helpers.h"
#include "ops/add.h"

namespace nmt {

TEST(ParamStore, VarsExistBeforeAllocate) {
  ParamStore ps;
  Var w = ps.add("w", {3, 4}, Init::uniform(0.1f));
  EXPECT_TRUE(w->requires_grad);
  EXPECT_TRUE(w->value.empty());
  EXPECT_FALSE(ps.allocated());
  ps.allocate(1);
  // The Var handed out at add() time now sees its slice of the arena.
  EXPECT_EQ(w->value.shape(), (Shape{3, 4}));
  EXPECT_EQ(w->value.data(), ps.values() + ps.offset("w"));
  EXPECT_EQ(w.get(), ps.get("w").get());
}

TEST(ParamStore, ArenaIsContiguousInDeclarationOrder) {
  ParamStore ps;
  ps.add("a", {3, 5}, Init::zeros());
  ps.add("b", {7}, Init::ones());
  ps.add("c", {2, 2, 2}, Init::normal(1.f));
  ps.add("s", {}, Init::ones());  // a scalar
  ps.allocate(7);
  EXPECT_EQ(ps.names(), (std::vector<std::string>{"a", "b", "c", "s"}));
  EXPECT_EQ(ps.num_params(), 15 + 7 + 8 + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ps.values()) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ps.grads()) % 64, 0u);
  int64_t prev_end = 0;
  for (const std::string& n : ps.names()) {
    Var v = ps.get(n);
    const int64_t off = v->value.data() - ps.values();
    // Same slice in both arenas; each slice starts 64-byte aligned, right after the
    // previous one (padding < 16 floats), and ends inside the arena.
    EXPECT_EQ(v->grad.data() - ps.grads(), off) << n;
    EXPECT_EQ(off % 16, 0) << n;
    EXPECT_GE(off, prev_end) << n;
    EXPECT_LT(off - prev_end, 16) << n;
    prev_end = off + v->value.numel();
    EXPECT_LE(prev_end, ps.size()) << n;
  }
  EXPECT_LT(ps.size() - prev_end, 16);
  // Init kinds, and zeros in the padding and in every gradient.
  for (int64_t i = 0; i < 15; ++i) EXPECT_EQ(ps.get("a")->value[i], 0.f);
  for (int64_t i = 0; i < 7; ++i) EXPECT_EQ(ps.get("b")->value[i], 1.f);
  EXPECT_EQ(ps.get("s")->value[0], 1.f);
  for (int64_t i = 15; i < ps.offset("b"); ++i) EXPECT_EQ(ps.values()[i], 0.f);
  for (int64_t i = 0; i < ps.size(); ++i) EXPECT_EQ(ps.grads()[i], 0.f);
}

TEST(ParamStore, GradientsAccumulateIntoTheArena) {
  ParamStore ps;
  Var a = ps.add("a", {4}, Init::uniform(1.f));
  Var b = ps.add("b", {4}, Init::uniform(1.f));
  ps.allocate(3);
  float* grad_a = a->grad.data();
  Tape::current().backward(add(a, b));
  // The ops wrote into the arena views (not a fresh buffer).
  EXPECT_EQ(a->grad.data(), grad_a);
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(ps.grads()[ps.offset("a") + i], 1.f);
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(ps.grads()[ps.offset("b") + i], 1.f);
  ps.zero_grads();
  for (int64_t i = 0; i < ps.size(); ++i) EXPECT_EQ(ps.grads()[i], 0.f);
}

TEST(ParamStore, InitIsDeterministicPerSeed) {
  auto make = [](uint64_t seed, bool extra_first) {
    auto ps = std::make_unique<ParamStore>();
    if (extra_first) ps->add("extra", {10}, Init::normal(1.f));
    ps->add("u", {50}, Init::uniform(0.5f));
    ps->add("n", {51}, Init::normal(2.f));
    ps->allocate(seed);
    return ps;
  };
  auto p1 = make(42, false), p2 = make(42, false), p3 = make(43, false), p4 = make(42, true);
  for (const char* n : {"u", "n"}) {
    std::vector<float> v1 = p1->get(n)->value.to_vector();
    EXPECT_EQ(v1, p2->get(n)->value.to_vector()) << n;
    EXPECT_NE(v1, p3->get(n)->value.to_vector()) << n;
    // Independent of the other parameters declared.
    EXPECT_EQ(v1, p4->get(n)->value.to_vector()) << n;
  }
  // Two parameters with the same init are not the same draw.
  ParamStore ps;
  ps.add("x", {20}, Init::uniform(1.f));
  ps.add("y", {20}, Init::uniform(1.f));
  ps.allocate(1);
  EXPECT_NE(ps.get("x")->value.to_vector(), ps.get("y")->value.to_vector());
}

TEST(ParamStore, InitDistributions) {
  ParamStore ps;
  const int64_t n = 20001;  // odd: the last normal draw is unpaired
  ps.add("u", {n}, Init::uniform(0.25f));
  ps.add("g", {n}, Init::normal(0.5f));
  ps.allocate(5);
  const Tensor& u = ps.get("u")->value;
  const Tensor& g = ps.get("g")->value;
  double su = 0, sg = 0, sg2 = 0;
  float lo = 1, hi = -1;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, u[i]);
    hi = std::max(hi, u[i]);
    su += u[i];
    sg += g[i];
    sg2 += double(g[i]) * g[i];
  }
  EXPECT_GE(lo, -0.25f);
  EXPECT_LE(hi, 0.25f);
  EXPECT_LT(lo, -0.24f);  // spans the interval
  EXPECT_GT(hi, 0.24f);
  EXPECT_NEAR(su / n, 0.0, 0.01);  // sd of the mean: 0.25/sqrt(3n) ~ 0.001
  EXPECT_NEAR(sg / n, 0.0, 0.02);  // sd of the mean: 0.5/sqrt(n) ~ 0.0035
  EXPECT_NEAR(std::sqrt(sg2 / n), 0.5, 0.02);
  EXPECT_NE(g[n - 1], 0.f);
}

TEST(ParamStore, Errors) {
  ParamStore ps;
  ps.add("w", {2}, Init::zeros());
  EXPECT_THROW(ps.add("w", {3}, Init::zeros()), Error);
  EXPECT_THROW(ps.add("", {3}, Init::zeros()), Error);
  EXPECT_THROW(ps.add("neg", {-1, 3}, Init::zeros()), Error);
  EXPECT_THROW(ps.set_value("w", Tensor::zeros({2})), Error);  // before allocate
  EXPECT_THROW(ps.zero_grads(), Error);
  ps.allocate(0);
  EXPECT_THROW(ps.allocate(0), Error);
  EXPECT_THROW(ps.add("late", {2}, Init::zeros()), Error);
  EXPECT_THROW(ps.get("nope"), Error);
  EXPECT_FALSE(ps.contains("nope"));
  EXPECT_TRUE(ps.contains("w"));
  testing::expect_error_containing<InputError>([&] { ps.set_value("w", Tensor::zeros({3})); }, "'w'", "[3]", "[2]");
  ps.set_value("w", Tensor::from({2}, {4.f, 5.f}));
  EXPECT_EQ(ps.get("w")->value.to_vector(), (std::vector<float>{4.f, 5.f}));
}

TEST(ParamStore, EmptyStore) {
  ParamStore ps;
  ps.allocate(0);
  EXPECT_TRUE(ps.allocated());
  EXPECT_EQ(ps.size(), 0);
  ps.zero_grads();
}

}  // namespace nmt
