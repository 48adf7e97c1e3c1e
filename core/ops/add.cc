#include "core/ops/add.h"

#include "core/error.h"
#include "core/ops/checks.h"

namespace nmt {

void add_forward(const Tensor& a, const Tensor& b, Tensor& c) {
  const float* pa = a.data();
  const float* pb = b.data();
  float* pc = c.data();
  const int64_t n = c.numel();
#pragma omp parallel for simd if (n > 32768)
  for (int64_t i = 0; i < n; ++i) pc[i] = pa[i] + pb[i];
}

void add_backward(const Tensor& dc, Tensor* da, Tensor* db) {
  const float* g = dc.data();
  const int64_t n = dc.numel();
  for (Tensor* d : {da, db}) {
    if (!d) continue;
    float* p = d->data();
#pragma omp parallel for simd if (n > 32768)
    for (int64_t i = 0; i < n; ++i) p[i] += g[i];
  }
}

Var add(const Var& a, const Var& b) {
  check_same_shape("add", a->value, b->value);
  Var c = result(Tensor(a->value.shape()), {&a, &b});
  add_forward(a->value, b->value, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), b = b.node(), c = c.node()] {
      if (c->grad.empty()) return;
      add_backward(c->grad, a->requires_grad ? &a->grad_buffer() : nullptr,
                   b->requires_grad ? &b->grad_buffer() : nullptr);
    });
  }
  return c;
}

}  // namespace nmt
