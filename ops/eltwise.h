// Element-wise activations (tanh, sigmoid, relu) on oneDNN's eltwise primitives. The
// forward uses the *_use_dst_for_bwd algorithms, so the backward needs only the output
// y (which the tape keeps anyway), not the input.
#pragma once

#include "core/graph.h"

namespace nmt {

enum class Activation { Tanh, Sigmoid, Relu };

const char* activation_name(Activation f);

// y = f(x), any shape (y may be x itself).
void eltwise_forward(Activation f, const Tensor& x, Tensor& y);
// dx += dy * f'(x), computed from y = f(x).
void eltwise_backward(Activation f, const Tensor& y, const Tensor& dy, Tensor& dx);

Var activation(Activation f, const Var& x);
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var relu(const Var& x);

}  // namespace nmt
