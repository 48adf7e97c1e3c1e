// The inner half of a Transformer feed-forward block as one op:
//   h = dropout(relu(x W^T + b), p)
// Composed (linear, relu, dropout) it keeps two [rows, ffn] tensors for the backward: relu's
// output and dropout's output; these are a transformer's widest activations. Fused, the relu
// is a post-op of the oneDNN matmul, the dropout is applied in place, and the backward needs
// only h: an element of h is positive exactly when the product was positive and the unit was
// kept, so dz = dh / (1 - p) where h > 0 and 0 elsewhere. The dropout mask is drawn from the
// Rng exactly as dropout() draws it, so the fused op and the composed ops give the same h.
#pragma once

#include "core/graph.h"
#include "core/random.h"

namespace nmt {

// ---- kernel ----
// dz = dh * (h > 0) / (1 - p) (overwrites dz; dz may be dh: the op's backward runs in place);
// h, dh and dz have the same shape.
void relu_dropout_backward(const Tensor& h, const Tensor& dh, float p, Tensor& dz);

// ---- Var op ----
// x [..., in], w [out, in], b [out] (or a null Var); p in [0, 1), applied only when training.
// Without a gradient to record (inference) it runs the composed ops, so int8 and packed
// weights apply as they do to linear().
Var linear_relu_dropout(const Var& x, const Var& w, const Var& b, float p, bool training, Rng& rng);

}  // namespace nmt
