#include "ops/softmax.h"

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"

namespace nmt {

namespace {

struct SoftmaxFwd {
  dnnl::softmax_v2_forward::primitive_desc pd;
  dnnl::softmax_v2_forward prim;
  dnnl::memory::desc md;
};
struct SoftmaxBwd {
  dnnl::softmax_v2_backward::primitive_desc pd;
  dnnl::softmax_v2_backward prim;
  dnnl::memory::desc md;
};

const char* op_name(bool log) { return log ? "log_softmax" : "softmax"; }
dnnl::algorithm algorithm_of(bool log) {
  return log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
}

// Any tensor is seen as [rows, C], normalised over C.
void check_input(bool log, const Tensor& t) {
  if (t.rank() < 1 || t.dim(-1) == 0)
    throw Error(cat(op_name(log), ": needs a non-empty last axis, got shape ", shape_str(t.shape())));
}

SoftmaxFwd& forward_prim(bool log, int64_t rows, int64_t cols) {
  auto& ctx = Context::get();
  return ctx.cached<SoftmaxFwd>(cat("softmax_fwd|", log, "|", rows, "x", cols), [&] {
    return dnnl_build(cat(op_name(log), " forward on [", rows, ", ", cols, "]"), [&] {
      SoftmaxFwd r;
      r.md = plain_md({rows, cols});
      r.pd = dnnl::softmax_v2_forward::primitive_desc(
          dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_training, algorithm_of(log), r.md, r.md, 1),
          nmt_attr(), ctx.engine());
      r.prim = dnnl::softmax_v2_forward(r.pd);
      return r;
    });
  });
}

}  // namespace

void softmax_forward(const Tensor& x, Tensor& y, bool log) {
  check_input(log, x);
  check_same_shape(op_name(log), x, y);
  const int64_t cols = x.dim(-1), rows = x.numel() / cols;
  if (rows == 0) return;
  auto& p = forward_prim(log, rows, cols);
  auto& eng = Context::get().engine();
  dnnl_execute(p.prim, {{DNNL_ARG_SRC, dnnl::memory(p.md, eng, const_cast<float*>(x.data()))},
                        {DNNL_ARG_DST, dnnl::memory(p.md, eng, y.data())}});
}

void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log, bool accumulate) {
  check_input(log, y);
  check_same_shape(op_name(log), y, dy);
  check_same_shape(op_name(log), y, dx);
  const int64_t cols = y.dim(-1), rows = y.numel() / cols;
  if (rows == 0) return;
  auto& ctx = Context::get();
  auto& p = ctx.cached<SoftmaxBwd>(cat("softmax_bwd|", log, "|", rows, "x", cols), [&] {
    auto& fwd = forward_prim(log, rows, cols);
    return dnnl_build(cat(op_name(log), " backward on [", rows, ", ", cols, "]"), [&] {
      SoftmaxBwd r;
      r.md = fwd.md;
      r.pd = dnnl::softmax_v2_backward::primitive_desc(
          dnnl::softmax_v2_backward::desc(algorithm_of(log), r.md, r.md, r.md, 1), nmt_attr(), ctx.engine(),
                                                     fwd.pd);
      r.prim = dnnl::softmax_v2_backward(r.pd);
      return r;
    });
  });
  // The primitive overwrites: to accumulate, compute into scratch, then add.
  Tensor scratch = accumulate ? Tensor(y.shape()) : dx;
  auto& eng = ctx.engine();
  dnnl_execute(p.prim, {{DNNL_ARG_DST, dnnl::memory(p.md, eng, const_cast<float*>(y.data()))},
                        {DNNL_ARG_DIFF_DST, dnnl::memory(p.md, eng, const_cast<float*>(dy.data()))},
                        {DNNL_ARG_DIFF_SRC, dnnl::memory(p.md, eng, scratch.data())}});
  if (accumulate) add_to(dx, scratch);
}

namespace {
Var softmax_op(const Var& x, bool log) {
  Var y = result(Tensor(x->value.shape()), {&x});
  softmax_forward(x->value, y->value, log);
  if (y->requires_grad) {
    Tape::current().push([x = x.node(), y = y.node(), yv = y->value, log] {
      if (y->grad.empty()) return;
      const Node::GradOut dx = x->grad_out();
      softmax_backward(yv, y->grad, *dx.buffer, log, dx.accumulate);
    });
  }
  return y;
}
}  // namespace

Var softmax(const Var& x) { return softmax_op(x, false); }
Var log_softmax(const Var& x) { return softmax_op(x, true); }

}  // namespace nmt
