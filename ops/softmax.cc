#include "ops/softmax.h"

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"

namespace nmt {

namespace {

using Fwd = dnnl::softmax_v2_forward;
using Bwd = dnnl::softmax_v2_backward;

const char* op_name(bool log) { return log ? "log_softmax" : "softmax"; }
dnnl::algorithm algorithm_of(bool log) {
  return log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
}

// Any tensor is seen as [rows, C], normalised over C.
void check_input(bool log, const Tensor& t) {
  if (t.rank() < 1 || t.dim(-1) == 0)
    throw Error(cat(op_name(log), ": needs a non-empty last axis, got shape ", shape_str(t.shape())));
}

CachedPrimitive<Fwd>& forward_prim(bool log, int64_t rows, int64_t cols) {
  return cached_primitive<Fwd>(
      cat("softmax_fwd|", log, "|", rows, "x", cols), cat(op_name(log), " forward on [", rows, ", ", cols, "]"), [&] {
        const auto md = plain_md({rows, cols});
        return Fwd::primitive_desc(Fwd::desc(dnnl::prop_kind::forward_training, algorithm_of(log), md, md, 1),
                                   nmt_attr(), Context::get().engine());
      });
}

CachedPrimitive<Bwd>& backward_prim(bool log, int64_t rows, int64_t cols) {
  return cached_primitive<Bwd>(cat("softmax_bwd|", log, "|", rows, "x", cols),
                               cat(op_name(log), " backward on [", rows, ", ", cols, "]"), [&] {
                                 const auto md = plain_md({rows, cols});
                                 return Bwd::primitive_desc(Bwd::desc(algorithm_of(log), md, md, md, 1), nmt_attr(),
                                                            Context::get().engine(), forward_prim(log, rows, cols).pd);
                               });
}

}  // namespace

void softmax_forward(const Tensor& x, Tensor& y, bool log) {
  check_input(log, x);
  check_same_shape(op_name(log), x, y);
  const int64_t cols = x.dim(-1), rows = x.numel() / cols;
  if (rows == 0) return;
  const auto md = plain_md({rows, cols});
  dnnl_execute(forward_prim(log, rows, cols).prim,
               {{DNNL_ARG_SRC, as_memory(x, md)}, {DNNL_ARG_DST, as_memory(y, md)}});
}

void softmax_backward(const Tensor& y, const Tensor& dy, Tensor& dx, bool log, bool accumulate) {
  check_input(log, y);
  check_same_shape(op_name(log), y, dy);
  check_same_shape(op_name(log), y, dx);
  const int64_t cols = y.dim(-1), rows = y.numel() / cols;
  if (rows == 0) return;
  // The primitive overwrites: to accumulate, compute into scratch, then add.
  // dy may be dx itself (computed in place), when not accumulating.
  Tensor scratch = accumulate ? Tensor(y.shape()) : dx;
  const auto md = plain_md({rows, cols});
  dnnl_execute(backward_prim(log, rows, cols).prim, {{DNNL_ARG_DST, as_memory(y, md)},
                                                     {DNNL_ARG_DIFF_DST, as_memory(dy, md)},
                                                     {DNNL_ARG_DIFF_SRC, as_memory(scratch, md)}});
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
