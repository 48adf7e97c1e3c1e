// c = a + b, same shapes. The pattern every op follows:
//   add_forward / add_backward : the kernel pair on Tensors (backward accumulates, +=)
//   add                        : the Var op, recording the backward on the tape
#pragma once

#include "core/graph.h"

namespace nmt {

void add_forward(const Tensor& a, const Tensor& b, Tensor& c);
// da += dc; db += dc (either may be null when not needed).
void add_backward(const Tensor& dc, Tensor* da, Tensor* db);

Var add(const Var& a, const Var& b);

}  // namespace nmt
