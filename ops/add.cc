#include "ops/add.h"

#include <utility>

#include "core/error.h"
#include "ops/checks.h"

namespace nmt {

void add_forward(const Tensor& a, const Tensor& b, Tensor& c) {
  const float* pa = a.data();
  const float* pb = b.data();
  float* pc = c.data();
  const int64_t n = c.numel();
#pragma omp parallel for simd if (n > 32768)
  for (int64_t i = 0; i < n; ++i) pc[i] = pa[i] + pb[i];
}

void add_backward(Tensor dc, Node* a, Node* b) {
  if (b) {
    if (a)
      b->add_grad(dc);
    else
      b->take_grad(std::move(dc));
  }
  if (a) a->take_grad(std::move(dc));  // after b's copy: a == b (x + x) gets dc twice
}

Var add(const Var& a, const Var& b) {
  check_same_shape("add", a->value, b->value);
  Var c = result(Tensor(a->value.shape()), {&a, &b});
  add_forward(a->value, b->value, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), b = b.node(), c = c.node()] {
      if (c->grad.empty()) return;
      add_backward(std::exchange(c->grad, Tensor()), a->requires_grad ? a.get() : nullptr,
                   b->requires_grad ? b.get() : nullptr);
    });
  }
  return c;
}

}  // namespace nmt
