#include "ops/layer_norm.h"

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"

namespace nmt {

namespace {

using dnnl::memory;

using Fwd = dnnl::layer_normalization_forward;
using Bwd = dnnl::layer_normalization_backward;

const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

CachedPrimitive<Fwd>& forward_prim(int64_t rows, int64_t cols, float eps, bool training) {
  return cached_primitive<Fwd>(
      cat("layer_norm_fwd|", rows, "x", cols, "|", key_float(eps), "|", training),
      cat("layer_norm forward on [", rows, ", ", cols, "]"), [&] {
        const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
        Fwd::primitive_desc pd(Fwd::desc(prop, plain_md({rows, cols}), plain_md({rows}), eps, kFlags), nmt_attr(),
                               Context::get().engine());
        if (pd.workspace_desc().get_size() != 0) throw Error("layer_norm: the primitive wants a workspace");
        return pd;
      });
}

CachedPrimitive<Bwd>& backward_prim(int64_t rows, int64_t cols, float eps) {
  return cached_primitive<Bwd>(cat("layer_norm_bwd|", rows, "x", cols, "|", key_float(eps)),
                               cat("layer_norm backward on [", rows, ", ", cols, "]"), [&] {
                                 const auto data = plain_md({rows, cols});
                                 Bwd::primitive_desc pd(
                                     Bwd::desc(dnnl::prop_kind::backward, data, data, plain_md({rows}), eps, kFlags),
                                     nmt_attr(), Context::get().engine(), forward_prim(rows, cols, eps, true).pd);
                                 if (pd.workspace_desc().get_size() != 0)
                                   throw Error("layer_norm: the primitive wants a workspace");
                                 return pd;
                               });
}

// The descriptors of a [rows, cols] layer norm: the data, the per-row statistics and the
// per-column scale and shift.
struct Mds {
  memory::desc data, stat, scale;
  Mds(int64_t rows, int64_t cols) : data(plain_md({rows, cols})), stat(plain_md({rows})), scale(plain_md({cols})) {}
};

int64_t rows_of(const Tensor& x) { return x.numel() / x.dim(-1); }

void check_stats(const char* what, const Tensor& s, int64_t rows) {
  if (s.numel() != rows)
    throw Error(cat("layer_norm: ", what, " has shape ", shape_str(s.shape()), ", expected ", rows, " values"));
}

}  // namespace

void check_layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  if (x.rank() < 1 || x.dim(-1) == 0 || gamma.shape() != Shape{x.dim(-1)} || beta.shape() != Shape{x.dim(-1)})
    throw Error(cat("layer_norm: x ", shape_str(x.shape()), ", gamma ", shape_str(gamma.shape()), ", beta ",
                    shape_str(beta.shape()), " do not fit (need x [..., C], gamma and beta [C])"));
}

void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& y, Tensor* mean,
                        Tensor* var) {
  check_layer_norm(x, gamma, beta);
  check_same_shape("layer_norm", x, y);
  if (!mean != !var) throw Error("layer_norm_forward: give both mean and var, or neither");
  const int64_t cols = x.dim(-1), rows = rows_of(x);
  if (mean) check_stats("mean", *mean, rows), check_stats("var", *var, rows);
  if (rows == 0) return;
  const Mds md(rows, cols);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, as_memory(x, md.data)},
                                       {DNNL_ARG_DST, as_memory(y, md.data)},
                                       {DNNL_ARG_SCALE, as_memory(gamma, md.scale)},
                                       {DNNL_ARG_SHIFT, as_memory(beta, md.scale)}};
  if (mean) {
    args.emplace(DNNL_ARG_MEAN, as_memory(*mean, md.stat));
    args.emplace(DNNL_ARG_VARIANCE, as_memory(*var, md.stat));
  }
  dnnl_execute(forward_prim(rows, cols, eps, mean != nullptr).prim, args);
}

void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& var, const Tensor& dy,
                         float eps, Tensor* dx, Tensor* dgamma, Tensor* dbeta, bool accumulate_dx) {
  check_layer_norm(x, gamma, gamma);
  check_same_shape("layer_norm", x, dy);
  if (dx) check_same_shape("layer_norm", x, *dx);
  if (dgamma) check_same_shape("layer_norm", gamma, *dgamma);
  if (dbeta) check_same_shape("layer_norm", gamma, *dbeta);
  const int64_t cols = x.dim(-1), rows = rows_of(x);
  check_stats("mean", mean, rows);
  check_stats("var", var, rows);
  if (rows == 0 || (!dx && !dgamma && !dbeta)) return;
  // The primitive overwrites its outputs: compute into scratch, then add (dx is written
  // directly when it is to be assigned).
  Tensor sx = dx && !accumulate_dx ? *dx : Tensor(x.shape()), sg({cols}), sb({cols});
  const Mds md(rows, cols);
  dnnl_execute(backward_prim(rows, cols, eps).prim,
               {{DNNL_ARG_SRC, as_memory(x, md.data)},
                {DNNL_ARG_DIFF_DST, as_memory(dy, md.data)},
                {DNNL_ARG_MEAN, as_memory(mean, md.stat)},
                {DNNL_ARG_VARIANCE, as_memory(var, md.stat)},
                {DNNL_ARG_SCALE, as_memory(gamma, md.scale)},
                // oneDNN 2.6 insists on a shift argument here although the gradients do not
                // depend on beta; it is only read, so gamma's buffer stands in.
                {DNNL_ARG_SHIFT, as_memory(gamma, md.scale)},
                {DNNL_ARG_DIFF_SRC, as_memory(sx, md.data)},
                {DNNL_ARG_DIFF_SCALE, as_memory(sg, md.scale)},
                {DNNL_ARG_DIFF_SHIFT, as_memory(sb, md.scale)}});
  if (dx && accumulate_dx) add_to(*dx, sx);
  if (dgamma) add_to(*dgamma, sg);
  if (dbeta) add_to(*dbeta, sb);
}

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps) {
  check_layer_norm(x->value, gamma->value, beta->value);
  Var y = result(Tensor(x->value.shape()), {&x, &gamma, &beta});
  if (!y->requires_grad) {
    layer_norm_forward(x->value, gamma->value, beta->value, eps, y->value);
    return y;
  }
  const int64_t rows = rows_of(x->value);
  Tensor mean({rows}), var({rows});
  layer_norm_forward(x->value, gamma->value, beta->value, eps, y->value, &mean, &var);
  Tape::current().push([x = x.node(), gamma = gamma.node(), beta = beta.node(), y = y.node(), xv = x->value,
                        gv = gamma->value, mean, var, eps] {
    if (y->grad.empty()) return;
    const Node::GradOut dx = x->requires_grad ? x->grad_out() : Node::GradOut{};
    layer_norm_backward(xv, gv, mean, var, y->grad, eps, dx.buffer,
                        gamma->requires_grad ? &gamma->grad_buffer() : nullptr,
                        beta->requires_grad ? &beta->grad_buffer() : nullptr, dx.accumulate);
  });
  return y;
}

}  // namespace nmt
