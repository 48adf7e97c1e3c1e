#include "ops/pairwise_add.h"

#include "core/error.h"
#include "ops/checks.h"

namespace nmt {

void pairwise_add_forward(const Tensor& q, const Tensor& k, Tensor& out) {
  const int64_t N = q.dim(0), T = q.dim(1), S = k.dim(1), A = q.dim(2);
  const float* pq = q.data();
  const float* pk = k.data();
  float* po = out.data();
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t) {
      const float* qi = pq + (n * T + t) * A;
      for (int64_t s = 0; s < S; ++s) {
        const float* ki = pk + (n * S + s) * A;
        float* o = po + ((n * T + t) * S + s) * A;
#pragma omp simd
        for (int64_t a = 0; a < A; ++a) o[a] = qi[a] + ki[a];
      }
    }
}

void pairwise_add_backward(const Tensor& dout, Tensor* dq, Tensor* dk) {
  const int64_t N = dout.dim(0), T = dout.dim(1), S = dout.dim(2), A = dout.dim(3);
  const float* g = dout.data();
  if (dq) {
    float* p = dq->data();
#pragma omp parallel for collapse(2)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < T; ++t) {
        float* d = p + (n * T + t) * A;
        for (int64_t s = 0; s < S; ++s) {
          const float* gi = g + ((n * T + t) * S + s) * A;
#pragma omp simd
          for (int64_t a = 0; a < A; ++a) d[a] += gi[a];
        }
      }
  }
  if (dk) {
    float* p = dk->data();
#pragma omp parallel for collapse(2)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        float* d = p + (n * S + s) * A;
        for (int64_t t = 0; t < T; ++t) {
          const float* gi = g + ((n * T + t) * S + s) * A;
#pragma omp simd
          for (int64_t a = 0; a < A; ++a) d[a] += gi[a];
        }
      }
  }
}

Var pairwise_add(const Var& q, const Var& k) {
  check_rank("pairwise_add", q->value, 3, "queries");
  check_rank("pairwise_add", k->value, 3, "keys");
  check_dim("pairwise_add", k->value, 0, q->value.dim(0), "keys");
  check_dim("pairwise_add", k->value, 2, q->value.dim(2), "keys");
  const Shape shape{q->value.dim(0), q->value.dim(1), k->value.dim(1), q->value.dim(2)};
  Var out = result(Tensor(shape), {&q, &k});
  pairwise_add_forward(q->value, k->value, out->value);
  if (out->requires_grad) {
    Tape::current().push([q = q.node(), k = k.node(), out = out.node()] {
      if (out->grad.empty()) return;
      pairwise_add_backward(out->grad, q->requires_grad ? &q->grad_buffer() : nullptr,
                            k->requires_grad ? &k->grad_buffer() : nullptr);
    });
  }
  return out;
}

}  // namespace nmt
