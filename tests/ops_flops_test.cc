// The matrix-product FLOP count behind `nmt bench train`'s fraction of the matmul peak:
// 2 m n k per product, forward and backward, for matmul, linear and the RNN primitives.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/graph.h"
#include "op_helpers.h"
#include "ops/bf16.h"
#include "ops/flops.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/rnn.h"

namespace nmt {
namespace {

Tensor filled(const Shape& s) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.01f * static_cast<float>(i % 13);
  return t;
}

TEST(Flops, MatmulCountsTwoMnkPerProduct) {
  const double before = matmul_flops_counted();
  Tensor a = filled({2, 3, 4}), b = filled({4, 5}), c({2, 3, 5});
  matmul_forward(a, b, c, false, false, 1.0f, false);
  EXPECT_DOUBLE_EQ(matmul_flops_counted() - before, 2.0 * 6 * 5 * 4);
}

TEST(Flops, LinearBackwardCountsBothGradients) {
  Var x = leaf(filled({6, 4}), true), w = leaf(filled({3, 4}), true), b = leaf(filled({3}), true);
  const double before = matmul_flops_counted();
  Var y = linear(x, w, b);
  EXPECT_DOUBLE_EQ(matmul_flops_counted() - before, 2.0 * 6 * 3 * 4);
  Tape::current().backward(sum(y));
  EXPECT_DOUBLE_EQ(matmul_flops_counted() - before, 3 * 2.0 * 6 * 3 * 4);  // y, dx, dW
}

TEST(Flops, LstmCountsGatesOfBothDirections) {
  const RnnLayerSpec spec{CellType::LSTM, true, 5, 3};
  const int64_t T = 4, N = 2;
  Var x = leaf(filled({T, N, 5}), true);
  Var wl = leaf(filled(rnn_weights_layer_shape(spec)), true), wi = leaf(filled(rnn_weights_iter_shape(spec)), true);
  Var bias = leaf(filled(rnn_bias_shape(spec)), true);
  const double before = matmul_flops_counted();
  RnnOutput out = rnn_layer(spec, x, {}, wl, wi, bias, Var(), Var());
  const double forward = 2.0 * T * N * 2 /*directions*/ * (4 * 3) /*gates x H*/ * (5 + 3);
  EXPECT_DOUBLE_EQ(matmul_flops_counted() - before, forward);
  Tape::current().backward(sum(out.seq));
  EXPECT_DOUBLE_EQ(matmul_flops_counted() - before, 3 * forward);
}

TEST(Flops, PeakMeasurementIsPositiveAndNotCounted) {
  const double before = matmul_flops_counted();
  EXPECT_GT(measure_matmul_peak_gflops(), 0.0);
  EXPECT_DOUBLE_EQ(matmul_flops_counted(), before);
}

// Every precision runs a correct product (the measurement checks c[0][0] and throws when it
// is wrong), with and without the input conversion, and is not counted as the model's work.
TEST(Flops, EveryPrecisionMeasuresACorrectProduct) {
  const double before = matmul_flops_counted();
  EXPECT_TRUE(matmul_available(Precision::f32));
  EXPECT_TRUE(matmul_available(Precision::s8));
  EXPECT_EQ(matmul_available(Precision::bf16), bf16_support() != Bf16Support::none) << onednn_isa_name();
  for (Precision p : {Precision::f32, Precision::bf16, Precision::s8}) {
    if (!matmul_available(p)) {  // refused by name, not by a oneDNN error
      testing::expect_error_containing([&] { measure_matmul_gflops(p, 48, 40, 72, false); }, precision_name(p),
                                       onednn_isa_name());
      continue;
    }
    EXPECT_GT(measure_matmul_gflops(p, 48, 40, 72, false), 0.0) << precision_name(p);
    EXPECT_GT(measure_matmul_gflops(p, 48, 40, 72, true), 0.0) << precision_name(p);
  }
  EXPECT_DOUBLE_EQ(matmul_flops_counted(), before);
  EXPECT_THROW(measure_matmul_gflops(Precision::f32, 0, 4, 4, false), Error);
}

}  // namespace
}  // namespace nmt
