// Full reductions to a scalar (shape {1}): the training loss is a sum or mean of per-token
// losses. Sums are accumulated in double so long batches lose no precision.
#pragma once

#include "core/graph.h"

namespace nmt {

// ---- kernels ----
void sum_forward(const Tensor& x, double s, Tensor& out);    // out[0] = s * sum(x)
void sum_backward(const Tensor& dout, float s, Tensor& dx);  // dx += s * dout[0]

// ---- Var ops ----
Var sum(const Var& x);   // -> {1}
Var mean(const Var& x);  // -> {1}; x must not be empty

}  // namespace nmt
