// int8 inference for the affine layer y = x W^T + b, on oneDNN's s8 x s8 matmul:
// several times the fp32 rate where the CPU has VNNI or AMX (`nmt bench matmul` measures it).
//
// Weights are quantized once, symmetrically per output row: W[j] ~ ws[j] * Wq[j] with
// ws[j] = max|W[j]| / L, where L = int8_weight_levels() depends on the CPU. Without VNNI
// oneDNN multiplies bytes with vpmaddubsw, which adds two u8 x s8 products in a saturating
// int16, the s8 activations shifted by 128 into u8 (oneDNN, "Nuances of int8
// computations"): 255 * 127 * 2 overflows 32767, so weights keep 7 bits there (L = 63:
// 255 * 63 * 2 = 32130 fits) and every integer sum is exact. With VNNI (vpdpbusd adds
// into int32) or AMX, L = 127. Activations are quantized at every call, per row of x:
// x[i] ~ xs[i] * xq[i] with xs[i] = max|x[i]| / 127, so a row's result never depends on
// the other rows of the batch (padding and batching change nothing: the integer sums are
// exact, whatever order a kernel adds them in). Then
//   y[i][j] = xs[i] * ws[j] * (xq[i] . Wq[j]) + b[j]
// as three oneDNN primitives: a reorder with per-row scales (quantize), the matmul with
// per-column output scales (ws), and a binary multiply by xs with the bias as a post-op.
//
// Int8Scope switches linear() to this path for forward passes that record no gradient
// (translation); weights are quantized on first use and forgotten when the scope ends,
// so the scope must not outlive the weights' values.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace nmt {

// The largest quantized weight magnitude oneDNN's s8 products on this CPU (its effective
// ISA) add up without saturating: 127 with VNNI or AMX, else 63.
int int8_weight_levels();

struct Int8Weights {
  int64_t out = 0, in = 0;
  int levels = 127;           // max |q|: int8_weight_levels() when quantized
  std::vector<int8_t> q;      // [out, in] row-major
  std::vector<float> scales;  // [out]
};

// Per-row symmetric quantization of W [out, in] to `levels` (default: int8_weight_levels()).
Int8Weights quantize_weights(const Tensor& w, int levels = 0);

// y = x W^T + b with x [..., in] quantized per row; y has linear_shape(x, w, b).
void linear_int8_forward(const Tensor& x, const Int8Weights& w, const Tensor* b, Tensor& y);

// While one is alive, linear() without gradients runs linear_int8_forward.
class Int8Scope {
 public:
  Int8Scope();
  ~Int8Scope();
  Int8Scope(const Int8Scope&) = delete;
  Int8Scope& operator=(const Int8Scope&) = delete;
};

// The quantized weights of `w` [out, in] when an Int8Scope is alive (made on first use),
// else null.
const Int8Weights* int8_weights_in_scope(const Tensor& w);
// The same for weights derived from parameters (ops/lstm_int8.h: an LSTM's W, U or
// stacked [W; U], transposed): `key` (a parameter's address) and `kind` (0 is linear's)
// name them; make() gives the [out, in] matrix on first use.
const Int8Weights* int8_weights_in_scope(const void* key, int kind, const std::function<Tensor()>& make);

// True while an Int8Scope is alive.
bool int8_scope_active();

}  // namespace nmt
