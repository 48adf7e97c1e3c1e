// Mixed-precision products (ops/bf16.h). A bfloat16 product is the fp32 product of its
// inputs rounded to bfloat16 (8 significant bits), accumulated in fp32: every check below
// compares the op under a Bf16Scope with the fp32 op applied to inputs rounded by a reference
// rounding written here, so a missing, doubled or wrongly rounded conversion fails it, and
// the fp32 result of the unrounded inputs is shown to differ (the scope is not a no-op).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/graph.h"
#include "core/params.h"
#include "core/random.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/bf16.h"
#include "ops/linear.h"
#include "ops/linear_cross_entropy.h"
#include "ops/linear_relu_dropout.h"
#include "ops/matmul.h"

namespace nmt {
using testing::random_tensor;

namespace {

// Round to nearest, ties to even, on the top 16 bits of the float (finite values).
float round_bf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
  std::memcpy(&v, &u, 4);
  return v;
}

Tensor rounded(const Tensor& t) {
  Tensor r = t.clone();
  for (int64_t i = 0; i < r.numel(); ++i) r[i] = round_bf16(r[i]);
  return r;
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  float m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// |a - b| <= tol * (1 + |b|) everywhere: fp32 accumulation in another order.
void expect_close(const Tensor& a, const Tensor& b, float tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << what << " at " << i;
}

struct Case {
  Shape a, b;
  bool ta, tb;
};

// 2D, batched and shared-B products, each with the four transposes; K = 40 makes
// rounding differences visible against fp32.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const auto sh = testing::stored_shape;
      out.push_back({sh(ta, {}, 9, 40), sh(tb, {}, 40, 7), ta, tb});
      out.push_back({sh(ta, {3}, 9, 40), sh(tb, {3}, 40, 7), ta, tb});
      out.push_back({sh(ta, {2, 3}, 5, 40), sh(tb, {}, 40, 7), ta, tb});
    }
  return out;
}

// Products under a Bf16Scope need oneDNN's bfloat16 matmul, which oneDNN 2.6 has from AVX-512 on.
class Bf16Products : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bf16_support() == Bf16Support::none)
      GTEST_SKIP() << "no bfloat16 products on this CPU (oneDNN at " << onednn_isa_name() << ")";
  }
};

}  // namespace

TEST(Bf16, ConversionRoundsToNearestEven) {
  const float one = 1.0f, ulp = std::ldexp(1.0f, -7);  // bfloat16's spacing in [1, 2)
  const std::vector<float> in = {one,
                                 one + ulp / 2,                         // a tie: to even (1)
                                 one + ulp + ulp / 2,                   // a tie: to even (1 + 2 ulp)
                                 one + ulp / 2 + std::ldexp(1.f, -20),  // above the tie: up
                                 -3.14159265f,
                                 1e-30f,
                                 65504.f,
                                 0.f};
  const std::vector<float> want = {one, one, one + 2 * ulp, one + ulp, -3.140625f, round_bf16(1e-30f), 65536.f, 0.f};
  const Tensor b = convert_to_bf16(in.data(), static_cast<int64_t>(in.size()));
  const Tensor back = bf16_to_float(b.data(), static_cast<int64_t>(in.size()));
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(back[static_cast<int64_t>(i)], want[i]) << "input " << in[i];
    EXPECT_EQ(round_bf16(in[i]), want[i]) << "the test's own rounding, input " << in[i];
  }
}

TEST_F(Bf16Products, ProductsEqualFp32ProductsOfRoundedInputs) {
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    SCOPED_TRACE(cat("A ", shape_str(c.a), " ta=", c.ta, " B ", shape_str(c.b), " tb=", c.tb));
    const Tensor a = random_tensor(c.a, seed++), b = random_tensor(c.b, seed++);
    const Shape cs = matmul_shape(c.a, c.b, c.ta, c.tb);
    Tensor got(cs), want(cs), plain(cs);
    {
      Bf16Scope scope(true, nullptr);
      ASSERT_TRUE(bf16_active());
      matmul_forward(a, b, got, c.ta, c.tb, 0.5f);
    }
    EXPECT_FALSE(bf16_active());
    matmul_forward(rounded(a), rounded(b), want, c.ta, c.tb, 0.5f);
    matmul_forward(a, b, plain, c.ta, c.tb, 0.5f);
    expect_close(got, want, 1e-5f, "bf16 against fp32 of rounded inputs");
    EXPECT_GT(max_abs_diff(got, plain), 1e-3f) << "the scope changed nothing";
  }
}

TEST_F(Bf16Products, AnOffScopeChangesNothing) {
  const Tensor a = random_tensor({9, 40}, 3), b = random_tensor({40, 7}, 4);
  Tensor got({9, 7}), want({9, 7});
  {
    Bf16Scope on(true, nullptr);
    Bf16Scope off(false, nullptr);  // the innermost scope decides
    EXPECT_FALSE(bf16_active());
    matmul_forward(a, b, got);
  }
  matmul_forward(a, b, want);
  EXPECT_EQ(max_abs_diff(got, want), 0.f);
}

// The backward converts its output gradient once and reads the same rounded inputs.
TEST_F(Bf16Products, MatmulBackwardEqualsFp32BackwardOfRoundedInputs) {
  uint64_t seed = 50;
  for (const Case& c : cases()) {
    SCOPED_TRACE(cat("A ", shape_str(c.a), " ta=", c.ta, " B ", shape_str(c.b), " tb=", c.tb));
    const Tensor a = random_tensor(c.a, seed++), b = random_tensor(c.b, seed++);
    const Tensor dc = random_tensor(matmul_shape(c.a, c.b, c.ta, c.tb), seed++);
    Tensor da = Tensor::zeros(c.a), db = Tensor::zeros(c.b), da_ref = Tensor::zeros(c.a), db_ref = Tensor::zeros(c.b);
    {
      Bf16Scope scope(true, nullptr);
      matmul_backward(a, b, dc, &da, &db, c.ta, c.tb, 2.0f);
    }
    matmul_backward(rounded(a), rounded(b), rounded(dc), &da_ref, &db_ref, c.ta, c.tb, 2.0f);
    expect_close(da, da_ref, 1e-5f, "dA");
    expect_close(db, db_ref, 1e-5f, "dB");
  }
}

// linear() and linear_relu_dropout() under the scope: the forward and every gradient are those
// of the fp32 ops on rounded x, W and output gradient; the bias gradient sums the unrounded one.
TEST_F(Bf16Products, LinearOpsEqualFp32OpsOfRoundedInputs) {
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "linear_relu_dropout" : "linear");
    const Tensor x = random_tensor({2, 6, 40}, 7), w = random_tensor({24, 40}, 8), b = random_tensor({24}, 9);
    const Tensor dy = random_tensor({2, 6, 24}, 10);
    auto run = [&](const Tensor& xv, const Tensor& wv, const Tensor& seed, bool bf16) {
      Tape::current().clear();
      Var xl = leaf(xv.clone(), true), wl = leaf(wv.clone(), true), bl = leaf(b.clone(), true);
      Bf16Scope scope(bf16, nullptr);
      Rng rng(1);
      Var y = relu ? linear_relu_dropout(xl, wl, bl, 0.0f, true, rng) : linear(xl, wl, bl);
      Tape::current().backward(y, seed);
      return std::vector<Tensor>{y->value.clone(), xl->grad.clone(), wl->grad.clone(), bl->grad.clone()};
    };
    const auto got = run(x, w, dy, true);
    // With relu the gradient reaching the product is dy where the output is positive, and
    // that is what the scope rounds; the output's sign pattern is the same in both runs.
    Tensor dz = dy.clone();
    if (relu)
      for (int64_t i = 0; i < dz.numel(); ++i) dz[i] = got[0][i] > 0 ? dz[i] : 0.f;
    const auto want = run(rounded(x), rounded(w), rounded(dz), false);
    expect_close(got[0], want[0], 1e-5f, "y");
    expect_close(got[1], want[1], 1e-5f, "dx");
    expect_close(got[2], want[2], 1e-5f, "dW");
    Tensor db = Tensor::zeros({24});
    for (int64_t r = 0; r < 12; ++r)
      for (int64_t j = 0; j < 24; ++j) db[j] += dz[r * 24 + j];
    expect_close(got[3], db, 1e-5f, "db");
    const auto plain = run(x, w, dy, false);
    EXPECT_GT(max_abs_diff(got[2], plain[2]), 1e-3f) << "dW: the scope changed nothing";
  }
}

// The output layer with its loss: bf16 products throughout (logits, dh, dW), so the loss and
// gradients move by bfloat16 rounding only, and the same rows give the same losses in any chunking.
TEST_F(Bf16Products, LinearCrossEntropyStaysCloseToFp32) {
  const Tensor h = random_tensor({30, 40}, 11), w = random_tensor({50, 40}, 12, -0.3f, 0.3f);
  std::vector<int32_t> targets(30);
  for (int i = 0; i < 30; ++i) targets[i] = (i * 7) % 50;
  targets[4] = 0;  // ignored
  auto run = [&](bool bf16, int64_t chunk) {
    Tape::current().clear();
    Var hl = leaf(h.clone(), true), wl = leaf(w.clone(), true);
    Bf16Scope scope(bf16, nullptr);
    Var loss = linear_cross_entropy(hl, wl, Var(), targets, 0.1f, 0, chunk);
    Tape::current().backward(loss, Tensor::full(loss->value.shape(), 1.f));
    return std::vector<Tensor>{loss->value.clone(), hl->grad.clone(), wl->grad.clone()};
  };
  const auto fp32 = run(false, 0), bf16 = run(true, 0), chunked = run(true, 7);
  expect_close(bf16[0], fp32[0], 2e-2f, "loss");
  expect_close(bf16[1], fp32[1], 2e-2f, "dh");
  expect_close(bf16[2], fp32[2], 2e-2f, "dW");
  EXPECT_GT(max_abs_diff(bf16[0], fp32[0]), 1e-5f) << "the scope changed nothing";
  expect_close(chunked[0], bf16[0], 1e-5f, "loss, chunks of 7 rows");
  expect_close(chunked[2], bf16[2], 1e-5f, "dW, chunks of 7 rows");
}

// A parameter is read from the copy the scope made when it started; other tensors are
// converted when a product reads them.
TEST_F(Bf16Products, ParametersAreReadFromTheScopesCopy) {
  ParamStore ps;
  Var w = ps.add("w", {40, 7}, Init::uniform(1.f));
  ps.allocate(3);
  const Tensor a = random_tensor({9, 40}, 5);
  const Tensor w_then = w->value.clone();
  Tensor got({9, 7}), want({9, 7});
  {
    Bf16Scope scope(true, &ps);
    Tensor hold;
    EXPECT_NE(Bf16Scope::current()->arena_copy(w->value.data(), w->value.numel(), hold), nullptr);
    EXPECT_EQ(Bf16Scope::current()->arena_copy(a.data(), a.numel(), hold), nullptr);
    w->value.fill(0.5f);  // breaks the scope's contract on purpose: the copy is what products read
    matmul_forward(a, w->value, got);
  }
  matmul_forward(rounded(a), rounded(w_then), want);
  expect_close(got, want, 1e-5f, "product with the parameter as the scope found it");
}

TEST(Bf16, OperandsKnowTheirType) {
  const Tensor t = random_tensor({3, 4}, 1);
  const Operand f = Operand::for_product(t);
  EXPECT_FALSE(f.bf16());
  EXPECT_EQ(f.data(), t.data());
  EXPECT_EQ(f.f32().data(), t.data());
  Bf16Scope scope(true, nullptr);
  const Operand b = Operand::for_product(t);
  EXPECT_TRUE(b.bf16());
  EXPECT_EQ(b.shape(), t.shape());
  EXPECT_NE(b.data(), static_cast<const void*>(t.data()));
  testing::expect_error_containing([&] { b.f32(); }, "[3, 4]", "bfloat16");
  const Operand s = saved_if(false, b);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.shape(), t.shape());
}

TEST_F(Bf16Products, RepeatedProductsReuseTheCache) {
  Bf16Scope scope(true, nullptr);
  testing::expect_cache_reused([] {
    Var a = leaf(random_tensor({3, 13, 17}, 31), true), b = leaf(random_tensor({3, 19, 17}, 32), true);
    return matmul(a, b, false, true, 0.25f);
  });
}

}  // namespace nmt
