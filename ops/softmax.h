// Softmax and log-softmax over the last axis on oneDNN's softmax_v2 primitives
// (softmax_accurate / softmax_log). The backward works from the forward output y,
// which the tape keeps, so nothing is recomputed.
#pragma once

#include "core/graph.h"

namespace nmt {

// y = softmax(x) (or log_softmax(x) when log) over the last axis; y may be x itself.
void softmax_forward(const Tensor& x, Tensor& y, bool log = false);
// dx += the gradient through y = softmax(x) (or log_softmax), given y and dy; dx = ... when
// not accumulate (the primitive then writes dx itself, and dy may be dx: in place).
void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log = false, bool accumulate = true);

Var softmax(const Var& x);
Var log_softmax(const Var& x);

}  // namespace nmt
