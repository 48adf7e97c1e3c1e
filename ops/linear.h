// The affine layer y = x W^T + b on oneDNN's matmul: x [..., in] is treated as one 2D
// matrix of rows (a single matmul over the flattened leading dims), W is [out, in]
// (read transposed through strides, no copy), b is [out] or absent. The forward fuses the
// bias into the matmul; the backward accumulates dx and dW in place (sum post-op) and
// adds the column sums of dy into db.
#pragma once

#include "core/graph.h"
#include "ops/bf16.h"

namespace nmt {

// Shape of linear(x, w): x [..., in], w [out, in], b [out] (b may be null). Throws
// nmt::Error naming the shapes when they do not fit.
Shape linear_shape(const Tensor& x, const Tensor& w, const Tensor* b);

// y = x W^T + b (b may be null). x and w are fp32 Tensors or bfloat16 Operands (ops/bf16.h).
void linear_forward(const Operand& x, const Operand& w, const Tensor* b, Tensor& y);
// y = max(0, x W^T + b): the same product with oneDNN's relu post-op.
void linear_relu_forward(const Operand& x, const Operand& w, const Tensor* b, Tensor& y);
// dx += dy W, dw += dy^T x, db += column sums of dy (any of them may be null); dx = dy W
// when !dx_accumulate (dx may then be uninitialised). In bfloat16 (x or w, or an active
// Bf16Scope) dy is converted once for both products.
void linear_backward(const Operand& x, const Operand& w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db,
                     bool dx_accumulate = true);
// linear_backward into the gradients of the Nodes that need one (bn may be null): x's is
// assigned when it has none yet (Node::grad_out).
void linear_backward_into(const Operand& x, const Operand& w, const Tensor& dy, Node* xn, Node* wn, Node* bn);

// What linear() and the ops built on it (linear_relu_dropout) keep of x and W for the
// backward: x (bfloat16 under a Bf16Scope: converted once for the forward and dW) when W
// needs a gradient, W when x needs one; the forward reads them too.
struct LinearInputs {
  Operand x, w;
};
LinearInputs linear_inputs(const Var& x, const Var& w);

// b may be a null Var (no bias).
Var linear(const Var& x, const Var& w, const Var& b);

}  // namespace nmt
