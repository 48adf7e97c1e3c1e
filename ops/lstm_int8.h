// int8 inference for LSTM layers (--gemm-type int8): the encoder's sequences and the
// decoder's steps, where the fp32 path runs oneDNN's LSTM primitive at ~2/3 of the fp32
// matmul peak and the cell's products are most of the work.
//
// The gate pre-activations are int8 products as in ops/linear_int8.h (weights
// quantized once per gate row, activations per row at each call, so a sentence's result
// does not depend on its batch):
//   a_t = x_t W + h_{t-1} U + b      (W [I, 4H], U [H, 4H], b [4H]: oneDNN's ldigo/ldgo layouts)
// A single step is one product of [x, h] by the stacked [W; U]; a sequence takes x W for
// all its positions in one product, then h U step by step. Then oneDNN's LSTM cell (gate
// order i, f, c~, o, no peepholes):
//   c' = sigmoid(a_f) * c + sigmoid(a_i) * tanh(a_c)     h' = sigmoid(a_o) * tanh(c')
// The nonlinearities are oneDNN eltwise primitives over dense tensors: one sigmoid over all
// of [N, 4H], the candidate block taken in as 2 a_c, since tanh(v) = 2 sigmoid(2v) - 1, and
// one tanh over c'; the products and sums in between are plain loops. A bidirectional layer
// runs its second direction from the last position to the first, as oneDNN's
// bidirectional_concat does.
#pragma once

#include "ops/rnn.h"
#include "ops/rnn_primitive.h"

namespace nmt {

// True when rnn_layer runs this path: an LSTM, nothing recording a gradient, and an
// Int8Scope alive.
bool lstm_int8_applies(const RnnLayerSpec& spec, bool training);

// The element-wise LSTM cell: from pre-activations a [N, 4H] (gate order i, f, c~, o; used
// as scratch, so overwritten) and the previous cell state c [N, H], writes c_out and h_out
// [N, H]. c may alias c_out.
void lstm_cell_forward(Tensor& a, const Tensor& c, Tensor& c_out, Tensor& h_out);

// A dense group of rnn_layer (every sentence of length T = io.x.dim(0)): fills io.y,
// io.h_last and io.c_last from io.x, io.h0 and io.c0 as oneDNN's inference primitive
// would, with the parameters' plain values. Needs a live Int8Scope (Error otherwise).
void lstm_dense_int8(const RnnLayerSpec& spec, const Tensor& w_layer, const Tensor& w_iter, const Tensor& bias,
                     RnnDenseIO& io);

}  // namespace nmt
