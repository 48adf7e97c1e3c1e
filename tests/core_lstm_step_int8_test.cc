// The int8 LSTM decoding step (core/ops/lstm_step_int8.h): its cell equals oneDNN's fp32 LSTM
// cell given the same pre-activations ("fused equals composed"), the int8 step is close to
// the fp32 step and really runs in int8, a row's result does not depend on its batch, and
// rnn_layer takes the path exactly when it applies.
#include <gtest/gtest.h>

#include <cmath>

#include "core/context.h"
#include "core/error.h"
#include "core/ops/linear.h"
#include "core/ops/linear_int8.h"
#include "core/ops/lstm_step_int8.h"
#include "core/ops/rnn.h"
#include "gradcheck.h"

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
  return {random_tensor({1, N, kSpec.input_dim}, seed), random_tensor(rnn_weights_layer_shape(kSpec), seed + 1, -0.4f, 0.4f),
          random_tensor(rnn_weights_iter_shape(kSpec), seed + 2, -0.3f, 0.3f),
          random_tensor(rnn_bias_shape(kSpec), seed + 3, -0.5f, 0.5f), random_tensor({1, N, H}, seed + 4),
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
TEST(LstmStepInt8, CellEqualsOneDnnLstmCell) {
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

TEST(LstmStepInt8, CloseToFp32AndIndependentOfTheBatch) {
  const Step s = make_step(7);
  const RnnOutput fp32 = run(s);
  Int8Scope int8;
  ASSERT_TRUE(lstm_step_int8_applies(kSpec, 1, false));
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

TEST(LstmStepInt8, AppliesOnlyToInferenceStepsOfOneDirectionLstms) {
  EXPECT_FALSE(lstm_step_int8_applies(kSpec, 1, false)) << "no Int8Scope";
  Int8Scope int8;
  EXPECT_TRUE(lstm_step_int8_applies(kSpec, 1, false));
  EXPECT_FALSE(lstm_step_int8_applies(kSpec, 2, false)) << "sequences run the fp32 primitive";
  EXPECT_FALSE(lstm_step_int8_applies(kSpec, 1, true)) << "training";
  EXPECT_FALSE(lstm_step_int8_applies({CellType::GRU, false, 24, 16}, 1, false));
  EXPECT_FALSE(lstm_step_int8_applies({CellType::LSTM, true, 24, 16}, 1, false));
}

}  // namespace
}  // namespace nmt
