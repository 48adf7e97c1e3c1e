#include "ops/layer_norm.h"

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"

namespace nmt {

namespace {

using dnnl::memory;

struct LayerNormFwd {
  dnnl::layer_normalization_forward::primitive_desc pd;
  dnnl::layer_normalization_forward prim;
  memory::desc data, stat, scale;
};
struct LayerNormBwd {
  dnnl::layer_normalization_backward::primitive_desc pd;
  dnnl::layer_normalization_backward prim;
  memory::desc data, stat, scale;
};

const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

LayerNormFwd& forward_prim(int64_t rows, int64_t cols, float eps, bool training) {
  auto& ctx = Context::get();
  return ctx.cached<LayerNormFwd>(cat("layer_norm_fwd|", rows, "x", cols, "|", key_float(eps), "|", training), [&] {
    return dnnl_build(cat("layer_norm forward on [", rows, ", ", cols, "]"), [&] {
      LayerNormFwd r;
      r.data = plain_md({rows, cols});
      r.stat = plain_md({rows});
      r.scale = plain_md({cols});
      auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
      r.pd = dnnl::layer_normalization_forward::primitive_desc(
          dnnl::layer_normalization_forward::desc(prop, r.data, r.stat, eps, kFlags), nmt_attr(), ctx.engine());
      if (r.pd.workspace_desc().get_size() != 0) throw Error("layer_norm: the primitive wants a workspace");
      r.prim = dnnl::layer_normalization_forward(r.pd);
      return r;
    });
  });
}

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
  auto& p = forward_prim(rows, cols, eps, mean != nullptr);
  auto& eng = Context::get().engine();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(p.data, eng, const_cast<float*>(x.data()))},
                                       {DNNL_ARG_DST, memory(p.data, eng, y.data())},
                                       {DNNL_ARG_SCALE, memory(p.scale, eng, const_cast<float*>(gamma.data()))},
                                       {DNNL_ARG_SHIFT, memory(p.scale, eng, const_cast<float*>(beta.data()))}};
  if (mean) {
    args.emplace(DNNL_ARG_MEAN, memory(p.stat, eng, mean->data()));
    args.emplace(DNNL_ARG_VARIANCE, memory(p.stat, eng, var->data()));
  }
  dnnl_execute(p.prim, args);
}

void layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& var,
                         const Tensor& dy, float eps, Tensor* dx, Tensor* dgamma, Tensor* dbeta,
                         bool accumulate_dx) {
  check_layer_norm(x, gamma, gamma);
  check_same_shape("layer_norm", x, dy);
  if (dx) check_same_shape("layer_norm", x, *dx);
  if (dgamma) check_same_shape("layer_norm", gamma, *dgamma);
  if (dbeta) check_same_shape("layer_norm", gamma, *dbeta);
  const int64_t cols = x.dim(-1), rows = rows_of(x);
  check_stats("mean", mean, rows);
  check_stats("var", var, rows);
  if (rows == 0 || (!dx && !dgamma && !dbeta)) return;
  auto& ctx = Context::get();
  auto& p = ctx.cached<LayerNormBwd>(cat("layer_norm_bwd|", rows, "x", cols, "|", key_float(eps)), [&] {
    auto& fwd = forward_prim(rows, cols, eps, true);
    return dnnl_build(cat("layer_norm backward on [", rows, ", ", cols, "]"), [&] {
      LayerNormBwd r;
      r.data = fwd.data, r.stat = fwd.stat, r.scale = fwd.scale;
      r.pd = dnnl::layer_normalization_backward::primitive_desc(
          dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, r.data, r.data, r.stat, eps, kFlags),
          nmt_attr(), ctx.engine(), fwd.pd);
      if (r.pd.workspace_desc().get_size() != 0) throw Error("layer_norm: the primitive wants a workspace");
      r.prim = dnnl::layer_normalization_backward(r.pd);
      return r;
    });
  });
  // The primitive overwrites its outputs: compute into scratch, then add (dx is written
  // directly when it is to be assigned).
  Tensor sx = dx && !accumulate_dx ? *dx : Tensor(x.shape()), sg({cols}), sb({cols});
  auto& eng = ctx.engine();
  dnnl_execute(p.prim, {{DNNL_ARG_SRC, memory(p.data, eng, const_cast<float*>(x.data()))},
                        {DNNL_ARG_DIFF_DST, memory(p.data, eng, const_cast<float*>(dy.data()))},
                        {DNNL_ARG_MEAN, memory(p.stat, eng, const_cast<float*>(mean.data()))},
                        {DNNL_ARG_VARIANCE, memory(p.stat, eng, const_cast<float*>(var.data()))},
                        {DNNL_ARG_SCALE, memory(p.scale, eng, const_cast<float*>(gamma.data()))},
                        // oneDNN 2.6 insists on a shift argument here although the gradients do
                        // not depend on beta; it is only read, so gamma's buffer stands in.
                        {DNNL_ARG_SHIFT, memory(p.scale, eng, const_cast<float*>(gamma.data()))},
                        {DNNL_ARG_DIFF_SRC, memory(p.data, eng, sx.data())},
                        {DNNL_ARG_DIFF_SCALE, memory(p.scale, eng, sg.data())},
                        {DNNL_ARG_DIFF_SHIFT, memory(p.scale, eng, sb.data())}});
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
  Tape::current().push([x = x.node(), gamma = gamma.node(), beta = beta.node(), y = y.node(), xv = x->value, gv = gamma->value,
                        mean, var, eps] {
    if (y->grad.empty()) return;
    const Node::GradOut dx = x->requires_grad ? x->grad_out() : Node::GradOut{};
    layer_norm_backward(xv, gv, mean, var, y->grad, eps, dx.buffer,
                        gamma->requires_grad ? &gamma->grad_buffer() : nullptr,
                        beta->requires_grad ? &beta->grad_buffer() : nullptr, dx.accumulate);
  });
  return y;
}

}  // namespace nmt
