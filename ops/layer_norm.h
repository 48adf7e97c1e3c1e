// Layer normalisation over the last axis on oneDNN's layer_normalization primitives:
//   y = (x - mean) / sqrt(var + eps) * gamma + beta,   gamma, beta [C].
// The training forward saves the per-row mean and variance for the backward; the
// inference forward (no stats requested) uses the forward_inference primitive.
#pragma once

#include "core/graph.h"

namespace nmt {

// Throws nmt::Error naming the shapes unless x is [..., C] and gamma, beta are [C].
void check_layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta);

// y = layer_norm(x). mean and var ([rows], rows = x.numel() / C) are filled when given
// (training; both or neither); y may be x itself.
void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y,
                        Tensor* mean = nullptr, Tensor* var = nullptr);
// dx += dL/dx, dgamma += dL/dgamma, dbeta += dL/dbeta (any may be null), from the saved
// mean and var of the training forward with the same eps; dx = dL/dx when not accumulate_dx.
void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& var, const Tensor& dy,
                         float eps, Tensor* dx, Tensor* dgamma, Tensor* dbeta, bool accumulate_dx = true);

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps = 1e-5f);

}  // namespace nmt
