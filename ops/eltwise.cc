#include "ops/eltwise.h"

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"

namespace nmt {

namespace {

using Fwd = dnnl::eltwise_forward;
using Bwd = dnnl::eltwise_backward;

dnnl::algorithm algorithm_of(Activation f) {
  switch (f) {
    case Activation::Tanh:
      return dnnl::algorithm::eltwise_tanh_use_dst_for_bwd;
    case Activation::Sigmoid:
      return dnnl::algorithm::eltwise_logistic_use_dst_for_bwd;
    case Activation::Relu:
      return dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
  }
  throw Error(cat("eltwise: unknown activation ", static_cast<int>(f)));
}

// Element-wise ops see every tensor as a flat vector: one primitive per element count.
CachedPrimitive<Fwd>& forward_prim(Activation f, int64_t n) {
  return cached_primitive<Fwd>(
      cat("eltwise_fwd|", activation_name(f), "|", n), cat(activation_name(f), " forward on ", n, " elements"), [&] {
        return Fwd::primitive_desc(Fwd::desc(dnnl::prop_kind::forward_training, algorithm_of(f), plain_md({n})),
                                   nmt_attr(), Context::get().engine());
      });
}

CachedPrimitive<Bwd>& backward_prim(Activation f, int64_t n) {
  return cached_primitive<Bwd>(cat("eltwise_bwd|", activation_name(f), "|", n),
                               cat(activation_name(f), " backward on ", n, " elements"), [&] {
                                 const auto md = plain_md({n});
                                 return Bwd::primitive_desc(Bwd::desc(algorithm_of(f), md, md), nmt_attr(),
                                                            Context::get().engine(), forward_prim(f, n).pd);
                               });
}

}  // namespace

const char* activation_name(Activation f) {
  switch (f) {
    case Activation::Tanh:
      return "tanh";
    case Activation::Sigmoid:
      return "sigmoid";
    case Activation::Relu:
      return "relu";
  }
  return "?";
}

void eltwise_forward(Activation f, const Tensor& x, Tensor& y) {
  check_same_shape(activation_name(f), x, y);
  const int64_t n = x.numel();
  if (n == 0) return;
  const auto md = plain_md({n});
  dnnl_execute(forward_prim(f, n).prim, {{DNNL_ARG_SRC, as_memory(x, md)}, {DNNL_ARG_DST, as_memory(y, md)}});
}

void eltwise_backward(Activation f, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_same_shape(activation_name(f), y, dy);
  check_same_shape(activation_name(f), y, dx);
  const int64_t n = y.numel();
  if (n == 0) return;
  const auto md = plain_md({n});
  Tensor scratch(y.shape());  // the primitive overwrites: compute, then add
  dnnl_execute(backward_prim(f, n).prim, {{DNNL_ARG_DST, as_memory(y, md)},
                                          {DNNL_ARG_DIFF_DST, as_memory(dy, md)},
                                          {DNNL_ARG_DIFF_SRC, as_memory(scratch, md)}});
  add_to(dx, scratch);
}

Var activation(Activation f, const Var& x) {
  Var y = result(Tensor(x->value.shape()), {&x});
  eltwise_forward(f, x->value, y->value);
  if (y->requires_grad) {
    Tape::current().push([f, x = x.node(), y = y.node(), yv = y->value] {
      if (y->grad.empty()) return;
      eltwise_backward(f, yv, y->grad, x->grad_buffer());
    });
  }
  return y;
}

Var tanh(const Var& x) { return activation(Activation::Tanh, x); }
Var sigmoid(const Var& x) { return activation(Activation::Sigmoid, x); }
Var relu(const Var& x) { return activation(Activation::Relu, x); }

}  // namespace nmt
