// Elementwise arithmetic on Vars: products, scaling, scaled sums and a broadcast add of
// a suffix-shaped tensor (a bias [C] over [..., C], or positions [T, C] over [N, T, C]).
// Each op is a forward/backward kernel pair (backward accumulates, +=) plus the Var op.
#pragma once

#include "core/graph.h"

namespace nmt {

// ---- kernels ----
void mul_forward(const Tensor& a, const Tensor& b, Tensor& c);
// da += dc * b ; db += dc * a (either may be null)
void mul_backward(const Tensor& dc, const Tensor& a, const Tensor& b, Tensor* da, Tensor* db);
void scale_forward(const Tensor& a, float s, Tensor& c);
void scale_backward(const Tensor& dc, float s, Tensor& da);  // da += s * dc
void add_scaled_forward(const Tensor& a, const Tensor& b, float sb, Tensor& c);
// da += dc ; db += sb * dc (either may be null)
void add_scaled_backward(const Tensor& dc, float sb, Tensor* da, Tensor* db);
// c = a + b with b repeated over a's leading axes (b.numel() divides a.numel()).
void add_broadcast_forward(const Tensor& a, const Tensor& b, Tensor& c);
// da += dc ; db += dc summed over the leading axes (either may be null)
void add_broadcast_backward(const Tensor& dc, Tensor* da, Tensor* db);

// ---- Var ops ----
Var mul(const Var& a, const Var& b);                   // same shape
Var scale(const Var& a, float s);                      // s * a
Var add_scaled(const Var& a, const Var& b, float sb);  // a + sb * b, same shape
Var sub(const Var& a, const Var& b);                   // a - b, same shape
// b's shape must be a suffix of a's shape ([C] for [..., C]; [T, C] for [N, T, C]).
Var add_broadcast(const Var& a, const Var& b);

}  // namespace nmt
