#include "ops/eltwise.h"

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"

namespace nmt {

namespace {

struct EltwiseFwd {
  dnnl::eltwise_forward::primitive_desc pd;
  dnnl::eltwise_forward prim;
  dnnl::memory::desc md;
};
struct EltwiseBwd {
  dnnl::eltwise_backward::primitive_desc pd;
  dnnl::eltwise_backward prim;
  dnnl::memory::desc md;
};

dnnl::algorithm algorithm_of(Activation f) {
  switch (f) {
    case Activation::Tanh: return dnnl::algorithm::eltwise_tanh_use_dst_for_bwd;
    case Activation::Sigmoid: return dnnl::algorithm::eltwise_logistic_use_dst_for_bwd;
    case Activation::Relu: return dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
  }
  throw Error(cat("eltwise: unknown activation ", static_cast<int>(f)));
}

// Element-wise ops see every tensor as a flat vector: one primitive per element count.
EltwiseFwd& forward_prim(Activation f, int64_t n) {
  auto& ctx = Context::get();
  return ctx.cached<EltwiseFwd>(cat("eltwise_fwd|", activation_name(f), "|", n), [&] {
    return dnnl_build(cat(activation_name(f), " forward on ", n, " elements"), [&] {
      EltwiseFwd r;
      r.md = plain_md({n});
      r.pd = dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, algorithm_of(f), r.md), nmt_attr(),
          ctx.engine());
      r.prim = dnnl::eltwise_forward(r.pd);
      return r;
    });
  });
}

}  // namespace

const char* activation_name(Activation f) {
  switch (f) {
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Relu: return "relu";
  }
  return "?";
}

void eltwise_forward(Activation f, const Tensor& x, Tensor& y) {
  check_same_shape(activation_name(f), x, y);
  const int64_t n = x.numel();
  if (n == 0) return;
  auto& p = forward_prim(f, n);
  auto& eng = Context::get().engine();
  dnnl_execute(p.prim, {{DNNL_ARG_SRC, dnnl::memory(p.md, eng, const_cast<float*>(x.data()))},
                        {DNNL_ARG_DST, dnnl::memory(p.md, eng, y.data())}});
}

void eltwise_backward(Activation f, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_same_shape(activation_name(f), y, dy);
  check_same_shape(activation_name(f), y, dx);
  const int64_t n = y.numel();
  if (n == 0) return;
  auto& ctx = Context::get();
  auto& p = ctx.cached<EltwiseBwd>(cat("eltwise_bwd|", activation_name(f), "|", n), [&] {
    auto& fwd = forward_prim(f, n);
    return dnnl_build(cat(activation_name(f), " backward on ", n, " elements"), [&] {
      EltwiseBwd r;
      r.pd = dnnl::eltwise_backward::primitive_desc(dnnl::eltwise_backward::desc(algorithm_of(f), fwd.md, fwd.md),
                                                    nmt_attr(), ctx.engine(), fwd.pd);
      r.prim = dnnl::eltwise_backward(r.pd);
      r.md = fwd.md;
      return r;
    });
  });
  const auto& md = p.md;
  Tensor scratch(y.shape());  // the primitive overwrites: compute, then add
  auto& eng = ctx.engine();
  dnnl_execute(p.prim, {{DNNL_ARG_DST, dnnl::memory(md, eng, const_cast<float*>(y.data()))},
                        {DNNL_ARG_DIFF_DST, dnnl::memory(md, eng, const_cast<float*>(dy.data()))},
                        {DNNL_ARG_DIFF_SRC, dnnl::memory(md, eng, scratch.data())}});
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
