// int8 LSTM inference (ops/lstm_int8.h): its cell equals oneDNN's fp32 LSTM cell given
// the same pre-activations ("fused equals composed"); decoding steps and bidirectional
// sequences are close to fp32 and really run in int8; a sentence's result does not depend
// on its batch (other rows, other lengths); rnn_layer takes the path exactly when it applies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "ops/linear.h"
#include "ops/linear_int8.h"
#include "ops/lstm_int8.h"
#include "ops/rnn.h"

namespace nmt {
namespace {

using testing::random_tensor;

const RnnLayerSpec kSpec{CellType::LSTM, false, 24, 16};
constexpr int64_t kN = 6;

struct Step {
  Tensor x, wl, wi, b, h0, c0;
};

Step make_step(uint64_t seed, int64_t N = kN) {
  const int64_t H = kSpec.hidden_dim;
  return {random_tensor({1, N, kSpec.input_dim}, seed),
          random_tensor(rnn_weights_layer_shape(kSpec), seed + 1, -0.4f, 0.4f),
          random_tensor(rnn_weights_iter_shape(kSpec), seed + 2, -0.3f, 0.3f),
          random_tensor(rnn_bias_shape(kSpec), seed + 3, -0.5f, 0.5f),
          random_tensor({1, N, H}, seed + 4),
          random_tensor({1, N, H}, seed + 5)};
}

RnnOutput run(const Step& s, bool with_state = true) {
  NoGradScope ng;
  return rnn_layer(kSpec, leaf(s.x), {}, leaf(s.wl), leaf(s.wi), leaf(s.b), with_state ? leaf(s.h0) : Var(),
                   with_state ? leaf(s.c0) : Var());
}

void expect_near(const Tensor& a, const Tensor& b, float tol, const char* what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a[i], b[i], tol) << what << " " << i;
}

// Pre-activations a = x W + h U + b in fp32 (W, U as [in, 4H] matrices), then the cell.
TEST(LstmInt8, CellEqualsOneDnnLstmCell) {
  const Step s = make_step(3);
  const int64_t I = kSpec.input_dim, H = kSpec.hidden_dim;
  Tensor a = Tensor::zeros({kN, 4 * H});
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t g = 0; g < 4 * H; ++g) {
      double v = s.b[g];
      for (int64_t i = 0; i < I; ++i) v += s.x[n * I + i] * s.wl[i * 4 * H + g];
      for (int64_t i = 0; i < H; ++i) v += s.h0[n * H + i] * s.wi[i * 4 * H + g];
      a[n * 4 * H + g] = static_cast<float>(v);
    }
  Tensor c = s.c0.reshape({kN, H}).clone(), h({kN, H});
  lstm_cell_forward(a, c, c, h);  // c in place, as allowed
  const RnnOutput want = run(s);
  expect_near(h, want.h_last->value.reshape({kN, H}), 2e-5f, "h");
  expect_near(c, want.c_last->value.reshape({kN, H}), 2e-5f, "c");
  Tensor bad({kN, 3 * H});
  EXPECT_THROW(lstm_cell_forward(bad, c, c, h), Error);
}

TEST(LstmInt8, CloseToFp32AndIndependentOfTheBatch) {
  const Step s = make_step(7);
  const RnnOutput fp32 = run(s);
  Int8Scope int8;
  ASSERT_TRUE(lstm_int8_applies(kSpec, false));
  const RnnOutput q = run(s);
  expect_near(q.h_last->value, fp32.h_last->value, 2e-2f, "h");
  expect_near(q.c_last->value, fp32.c_last->value, 2e-2f, "c");
  expect_near(q.seq->value, q.h_last->value, 0.f, "seq = h");
  bool differs = false;
  for (int64_t i = 0; i < q.h_last->value.numel(); ++i) differs |= q.h_last->value[i] != fp32.h_last->value[i];
  EXPECT_TRUE(differs) << "int8 equals fp32 exactly: the int8 path did not run";
  // Row 2 alone gives what it gives in the batch.
  const int64_t I = kSpec.input_dim, H = kSpec.hidden_dim;
  Step one = s;
  one.x = Tensor({1, 1, I});
  one.h0 = Tensor({1, 1, H});
  one.c0 = Tensor({1, 1, H});
  std::copy_n(s.x.data() + 2 * I, I, one.x.data());
  std::copy_n(s.h0.data() + 2 * H, H, one.h0.data());
  std::copy_n(s.c0.data() + 2 * H, H, one.c0.data());
  const RnnOutput alone = run(one);
  for (int64_t j = 0; j < H; ++j) {
    EXPECT_EQ(alone.h_last->value[j], q.h_last->value[2 * H + j]) << j;
    EXPECT_EQ(alone.c_last->value[j], q.c_last->value[2 * H + j]) << j;
  }
  // A null state is the zero state.
  Step zero = s;
  zero.h0 = Tensor::zeros({1, kN, H});
  zero.c0 = Tensor::zeros({1, kN, H});
  expect_near(run(s, false).h_last->value, run(zero).h_last->value, 0.f, "null state");
}

// One decoding step is one int8 product [x, h] [W; U] (weights of int8_weight_levels()
// levels per gate row), so each pre-activation a_g is off by at most the product bound
// e_g = ws/2 sum|xh| + xs/2 sum|w_g| + (I + H) xs ws / 4 (core_linear_int8_test). The cell
// then moves by at most what the Lipschitz constants allow (sigmoid 1/4, tanh 1):
//   |dc'| <= e_f |c| / 4 + e_i / 4 + e_c      |dh'| <= e_o / 4 + |dc'|
TEST(LstmInt8, StepIsWithinTheQuantizationBound) {
  const Step s = make_step(11);
  const RnnOutput fp32 = run(s);
  Int8Scope int8;
  const RnnOutput q = run(s);
  const int64_t I = kSpec.input_dim, H = kSpec.hidden_dim, G = 4 * H;
  const float levels = static_cast<float>(int8_weight_levels());
  auto w_at = [&](int64_t k, int64_t g) { return k < I ? s.wl[k * G + g] : s.wi[(k - I) * G + g]; };
  for (int64_t n = 0; n < kN; ++n) {
    auto xh = [&](int64_t k) { return k < I ? s.x[n * I + k] : s.h0[n * H + k - I]; };
    double sx = 0, xmax = 0;
    for (int64_t k = 0; k < I + H; ++k) {
      sx += std::fabs(xh(k));
      xmax = std::max<double>(xmax, std::fabs(xh(k)));
    }
    const double xs = xmax / 127;
    std::vector<double> e(G);
    for (int64_t g = 0; g < G; ++g) {
      double sw = 0, wmax = 0;
      for (int64_t k = 0; k < I + H; ++k) {
        sw += std::fabs(w_at(k, g));
        wmax = std::max<double>(wmax, std::fabs(w_at(k, g)));
      }
      const double ws = wmax / levels;
      e[g] = 0.5 * ws * sx + 0.5 * xs * sw + 0.25 * (I + H) * xs * ws;
    }
    for (int64_t j = 0; j < H; ++j) {
      const double dc = e[H + j] * std::fabs(s.c0[n * H + j]) / 4 + e[j] / 4 + e[2 * H + j];
      const double dh = e[3 * H + j] / 4 + dc;
      EXPECT_LE(std::fabs(q.c_last->value[n * H + j] - fp32.c_last->value[n * H + j]), dc + 1e-5) << n << "," << j;
      EXPECT_LE(std::fabs(q.h_last->value[n * H + j] - fp32.h_last->value[n * H + j]), dh + 1e-5) << n << "," << j;
    }
  }
}

TEST(LstmInt8, AppliesToLstmInferenceUnderAnInt8Scope) {
  EXPECT_FALSE(lstm_int8_applies(kSpec, false)) << "no Int8Scope";
  Int8Scope int8;
  EXPECT_TRUE(lstm_int8_applies(kSpec, false));
  EXPECT_TRUE(lstm_int8_applies({CellType::LSTM, true, 24, 16}, false));
  EXPECT_FALSE(lstm_int8_applies(kSpec, true)) << "training";
  EXPECT_FALSE(lstm_int8_applies({CellType::GRU, false, 24, 16}, false));
}

// An encoder layer: bidirectional, sentences of lengths 5, 2, 4 (three length groups).
TEST(LstmInt8, BidirectionalSequencesCloseToFp32AndIndependentOfTheBatch) {
  const RnnLayerSpec spec{CellType::LSTM, true, 12, 8};
  const int64_t T = 5, N = 3, I = spec.input_dim, H = spec.hidden_dim;
  const std::vector<int> lengths = {5, 2, 4};
  const Tensor x = random_tensor({T, N, I}, 31), wl = random_tensor(rnn_weights_layer_shape(spec), 32, -0.4f, 0.4f),
               wi = random_tensor(rnn_weights_iter_shape(spec), 33, -0.3f, 0.3f),
               b = random_tensor(rnn_bias_shape(spec), 34, -0.5f, 0.5f);
  NoGradScope ng;
  auto layer = [&](const Tensor& xs, const std::vector<int>& lens) {
    return rnn_layer(spec, leaf(xs), lens, leaf(wl), leaf(wi), leaf(b), Var(), Var());
  };
  const RnnOutput fp32 = layer(x, lengths);
  Int8Scope int8;
  const RnnOutput q = layer(x, lengths);
  expect_near(q.seq->value, fp32.seq->value, 3e-2f, "seq");
  expect_near(q.h_last->value, fp32.h_last->value, 3e-2f, "h_last");
  expect_near(q.c_last->value, fp32.c_last->value, 3e-2f, "c_last");
  bool differs = false;
  for (int64_t i = 0; i < q.seq->value.numel(); ++i) differs |= q.seq->value[i] != fp32.seq->value[i];
  EXPECT_TRUE(differs) << "int8 equals fp32 exactly: the int8 path did not run";
  // Sentence 2 (length 4) alone gives what it gives in the batch, both directions.
  Tensor x2({4, 1, I});
  for (int64_t t = 0; t < 4; ++t) std::copy_n(x.data() + (t * N + 2) * I, I, x2.data() + t * I);
  const RnnOutput alone = layer(x2, {4});
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t j = 0; j < 2 * H; ++j)
      EXPECT_EQ(alone.seq->value[t * 2 * H + j], q.seq->value[(t * N + 2) * 2 * H + j]) << t << " " << j;
  for (int64_t d = 0; d < 2; ++d)
    for (int64_t j = 0; j < H; ++j) {
      EXPECT_EQ(alone.h_last->value[d * H + j], q.h_last->value[(d * N + 2) * H + j]) << d << " " << j;
      EXPECT_EQ(alone.c_last->value[d * H + j], q.c_last->value[(d * N + 2) * H + j]) << d << " " << j;
    }
}

}  // namespace
}  // namespace nmt
