#include "ops/reduce.h"

#include "core/error.h"

namespace nmt {

namespace {
constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they save

// s * sum(x): the Var op for sum (s = 1) and mean (s = 1/n).
Var scaled_sum(const Var& x, double s) {
  Var c = result(Tensor({1}), {&x});
  sum_forward(x->value, s, c->value);
  if (c->requires_grad) {
    Tape::current().push([x = x.node(), c = c.node(), s] {
      if (c->grad.empty()) return;
      sum_backward(c->grad, static_cast<float>(s), x->grad_buffer());
    });
  }
  return c;
}
}  // namespace

void sum_forward(const Tensor& x, double scale, Tensor& out) {
  const float* p = x.data();
  const int64_t n = x.numel();
  double s = 0;
#pragma omp parallel for simd reduction(+ : s) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) s += p[i];
  out[0] = static_cast<float>(scale * s);
}

void sum_backward(const Tensor& dout, float s, Tensor& dx) {
  const float g = s * dout[0];
  float* p = dx.data();
  const int64_t n = dx.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) p[i] += g;
}

Var sum(const Var& x) { return scaled_sum(x, 1.0); }

Var mean(const Var& x) {
  const int64_t n = x->value.numel();
  if (n == 0) throw Error(cat("mean: empty tensor of shape ", shape_str(x->value.shape())));
  return scaled_sum(x, 1.0 / static_cast<double>(n));
}

}  // namespace nmt
