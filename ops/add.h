// c = a + b, same shapes. The pattern every op follows:
//   add_forward / add_backward : the named pair (a backward adds into the inputs' gradients;
//                                add's hands dc itself on, see below)
//   add                        : the Var op, recording the backward on the tape
#pragma once

#include "core/graph.h"

namespace nmt {

void add_forward(const Tensor& a, const Tensor& b, Tensor& c);
// a.grad += dc; b.grad += dc (either may be null when it needs no gradient). dc itself is
// handed to one of them (Node::take_grad): no buffer is zeroed and at most one is copied
// (the residual connections of a transformer add into fresh gradients on both sides).
void add_backward(Tensor dc, Node* a, Node* b);

Var add(const Var& a, const Var& b);

}  // namespace nmt
