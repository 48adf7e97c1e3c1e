#include "ops/elementwise.h"

#include <algorithm>

#include "core/error.h"
#include "ops/checks.h"

namespace nmt {

namespace {
constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they save
constexpr int64_t kBlock = 256;          // column block for the broadcast gradient reduction

void check_suffix(const Tensor& a, const Tensor& b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  bool ok = !sb.empty() && sb.size() <= sa.size();
  for (size_t i = 0; ok && i < sb.size(); ++i) ok = sb[sb.size() - 1 - i] == sa[sa.size() - 1 - i];
  if (!ok) throw Error(cat("add_broadcast: ", shape_str(sb), " is not a suffix of ", shape_str(sa)));
}
}  // namespace

// ---------------- kernels ----------------

void mul_forward(const Tensor& a, const Tensor& b, Tensor& c) {
  const float* pa = a.data();
  const float* pb = b.data();
  float* pc = c.data();
  const int64_t n = c.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) pc[i] = pa[i] * pb[i];
}

void mul_backward(const Tensor& dc, const Tensor& a, const Tensor& b, Tensor* da, Tensor* db) {
  const float* g = dc.data();
  const int64_t n = dc.numel();
  if (da) {
    float* p = da->data();
    const float* pb = b.data();
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) p[i] += g[i] * pb[i];
  }
  if (db) {
    float* p = db->data();
    const float* pa = a.data();
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) p[i] += g[i] * pa[i];
  }
}

void scale_forward(const Tensor& a, float s, Tensor& c) {
  const float* pa = a.data();
  float* pc = c.data();
  const int64_t n = c.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) pc[i] = s * pa[i];
}

void scale_backward(const Tensor& dc, float s, Tensor& da) {
  const float* g = dc.data();
  float* p = da.data();
  const int64_t n = dc.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) p[i] += s * g[i];
}

void add_scaled_forward(const Tensor& a, const Tensor& b, float sb, Tensor& c) {
  const float* pa = a.data();
  const float* pb = b.data();
  float* pc = c.data();
  const int64_t n = c.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) pc[i] = pa[i] + sb * pb[i];
}

void add_scaled_backward(const Tensor& dc, float sb, Tensor* da, Tensor* db) {
  if (da) scale_backward(dc, 1.0f, *da);
  if (db) scale_backward(dc, sb, *db);
}

void add_broadcast_forward(const Tensor& a, const Tensor& b, Tensor& c) {
  const int64_t inner = b.numel();
  const int64_t outer = inner ? a.numel() / inner : 0;
  const float* pa = a.data();
  const float* pb = b.data();
  float* pc = c.data();
#pragma omp parallel for if (outer * inner > kParallelMin)
  for (int64_t o = 0; o < outer; ++o) {
    const float* x = pa + o * inner;
    float* y = pc + o * inner;
#pragma omp simd
    for (int64_t i = 0; i < inner; ++i) y[i] = x[i] + pb[i];
  }
}

void add_broadcast_backward(const Tensor& dc, Tensor* da, Tensor* db) {
  if (da) scale_backward(dc, 1.0f, *da);
  if (!db) return;
  const int64_t inner = db->numel();
  const int64_t outer = inner ? dc.numel() / inner : 0;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const float* g = dc.data();
  float* p = db->data();
  // Each column block is reduced by one thread over all rows: no races, fixed summation order.
#pragma omp parallel for if (outer * inner > kParallelMin)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t b0 = blk * kBlock, len = std::min(kBlock, inner - b0);
    for (int64_t o = 0; o < outer; ++o) {
      const float* row = g + o * inner + b0;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) p[b0 + i] += row[i];
    }
  }
}

// ---------------- Var ops ----------------

Var mul(const Var& a, const Var& b) {
  check_same_shape("mul", a->value, b->value);
  Var c = result(Tensor(a->value.shape()), {&a, &b});
  mul_forward(a->value, b->value, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), b = b.node(), c = c.node(), av = saved_if(b->requires_grad, a->value),
                          bv = saved_if(a->requires_grad, b->value)] {
      if (c->grad.empty()) return;
      mul_backward(c->grad, av, bv, a->requires_grad ? &a->grad_buffer() : nullptr,
                   b->requires_grad ? &b->grad_buffer() : nullptr);
    });
  }
  return c;
}

Var scale(const Var& a, float s) {
  Var c = result(Tensor(a->value.shape()), {&a});
  scale_forward(a->value, s, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), c = c.node(), s] {
      if (c->grad.empty()) return;
      scale_backward(c->grad, s, a->grad_buffer());
    });
  }
  return c;
}

Var add_scaled(const Var& a, const Var& b, float sb) {
  check_same_shape("add_scaled", a->value, b->value);
  Var c = result(Tensor(a->value.shape()), {&a, &b});
  add_scaled_forward(a->value, b->value, sb, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), b = b.node(), c = c.node(), sb] {
      if (c->grad.empty()) return;
      add_scaled_backward(c->grad, sb, a->requires_grad ? &a->grad_buffer() : nullptr,
                          b->requires_grad ? &b->grad_buffer() : nullptr);
    });
  }
  return c;
}

Var sub(const Var& a, const Var& b) { return add_scaled(a, b, -1.0f); }

Var add_broadcast(const Var& a, const Var& b) {
  check_suffix(a->value, b->value);
  Var c = result(Tensor(a->value.shape()), {&a, &b});
  add_broadcast_forward(a->value, b->value, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), b = b.node(), c = c.node()] {
      if (c->grad.empty()) return;
      add_broadcast_backward(c->grad, a->requires_grad ? &a->grad_buffer() : nullptr,
                             b->requires_grad ? &b->grad_buffer() : nullptr);
    });
  }
  return c;
}

}  // namespace nmt
