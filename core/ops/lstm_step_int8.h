// int8 inference for one step of a unidirectional LSTM layer (decoding under --gemm-type
// int8), where the fp32 path runs oneDNN's LSTM primitive at ~2/3 of the fp32 matmul peak
// and the cell's two products are most of a step's work.
//
// The gate pre-activations are one int8 product as in core/ops/linear_int8.h, of [x, h]
// (each row quantized at each call, so a sentence's result does not depend on its batch) by
// the stacked weights [W; U] (quantized once per gate row):
//   a = [x, h] [W; U] + b      (W [I, 4H], U [H, 4H], b [4H]: oneDNN's ldigo/ldgo layouts)
// then oneDNN's LSTM cell (gate order i, f, c~, o, no peepholes):
//   c' = sigmoid(a_f) * c + sigmoid(a_i) * tanh(a_c)     h' = sigmoid(a_o) * tanh(c')
// The nonlinearities are oneDNN eltwise primitives over dense tensors: one sigmoid over all
// of [N, 4H], the candidate block taken in as 2 a_c, since tanh(v) = 2 sigmoid(2v) - 1, and
// one tanh over c'; the products and sums in between are plain loops.
#pragma once

#include "core/ops/rnn.h"

namespace nmt {

// True when rnn_layer runs this path: an LSTM, one direction, one step (T = 1), nothing
// recording a gradient, and an Int8Scope alive.
bool lstm_step_int8_applies(const RnnLayerSpec& spec, int64_t T, bool training);

// The element-wise LSTM cell: from pre-activations a [N, 4H] (gate order i, f, c~, o; used
// as scratch, so overwritten) and the previous cell state c [N, H], writes c_out and h_out
// [N, H]. c may alias c_out.
void lstm_cell_forward(Tensor& a, const Tensor& c, Tensor& c_out, Tensor& h_out);

// One step: x [1, N, I], h0 and c0 [1, N, H] or null (zeros). As rnn_layer's outputs
// (seq [1, N, H] equals h_last), recording nothing.
RnnOutput lstm_step_int8(const RnnLayerSpec& spec, const Var& x, const Var& w_layer, const Var& w_iter,
                         const Var& bias, const Var& h0, const Var& c0);

}  // namespace nmt
