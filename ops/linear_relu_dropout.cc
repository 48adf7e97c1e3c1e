#include "ops/linear_relu_dropout.h"

#include "core/error.h"
#include "ops/checks.h"
#include "ops/dropout.h"
#include "ops/eltwise.h"
#include "ops/linear.h"

namespace nmt {

void relu_dropout_backward(const Tensor& h, const Tensor& dh, float p, Tensor& dz) {
  check_same_shape("relu_dropout_backward", h, dh);
  check_same_shape("relu_dropout_backward", h, dz);
  if (!(p >= 0.f && p < 1.f)) throw Error(cat("relu_dropout_backward: probability ", p, " not in [0, 1)"));
  const float kept = 1.0f / (1.0f - p);
  const float* hv = h.data();
  const float* g = dh.data();
  float* d = dz.data();
  const int64_t n = h.numel();
  // A select between two constants and an unconditional product, so that the loop
  // vectorizes: a branch on h would be mispredicted as often as the random dropout mask
  // changes. A non-finite g where h <= 0 gives NaN instead of 0, which only happens once the
  // step has diverged anyway.
#pragma omp parallel for simd if (n > 32768)
  for (int64_t i = 0; i < n; ++i) d[i] = g[i] * (hv[i] > 0.f ? kept : 0.f);
}

Var linear_relu_dropout(const Var& x, const Var& w, const Var& b, float p, bool training, Rng& rng) {
  if (!(p >= 0.f && p < 1.f)) throw Error(cat("linear_relu_dropout: dropout probability ", p, " not in [0, 1)"));
  if (!Tape::current().recording({&x, &w, &b})) return dropout(relu(linear(x, w, b)), p, training, rng);
  const Tensor* bv = b ? &b->value : nullptr;
  Var h = result(Tensor(linear_shape(x->value, w->value, bv)), {&x, &w, &b});
  const LinearInputs in = linear_inputs(x, w);
  linear_relu_forward(in.x, in.w, bv, h->value);
  const float p_used = training ? p : 0.f;
  if (p_used > 0.f) dropout_forward(h->value, p_used, rng.next_u64(), -1, h->value);  // in place, as dropout() draws
  Tape::current().push([x = x.node(), w = w.node(), b = b.node(), h = h.node(), hv = h->value,
                        xv = saved_if(w->requires_grad, in.x), wv = saved_if(x->requires_grad, in.w), p_used] {
    if (h->grad.empty()) return;
    Tensor& dz = h->grad;  // read by no other step of the backward: overwritten in place
    relu_dropout_backward(hv, h->grad, p_used, dz);
    linear_backward_into(xv, wv, dz, x.get(), w.get(), b.get());
  });
  return h;
}

}  // namespace nmt
