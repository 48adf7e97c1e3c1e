#include "ops/matmul.h"

#include <algorithm>

#include "core/context.h"
#include "core/error.h"
#include "ops/dnnl_util.h"
#include "ops/flops.h"

namespace nmt {

namespace {

using dnnl::memory;

struct MatmulPrim {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  memory::desc src, wei, dst, bias;
};

std::string arg_str(const MatArg& m) { return cat(m.nb, "x[", m.rows, ", ", m.cols, "]", m.trans ? "^T" : ""); }

// Logical dims and strides of op(m) as a 2D ([M, K]) or 3D ([nb, M, K]) descriptor.
memory::desc op_md(const MatArg& m, bool batched) {
  const int64_t rs = m.trans ? 1 : m.cols;  // stride between logical rows
  const int64_t cs = m.trans ? m.cols : 1;  // stride between logical columns
  const auto type = m.bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  if (!batched) return memory::desc({m.op_rows(), m.op_cols()}, type, memory::dims{rs, cs});
  return memory::desc({m.nb, m.op_rows(), m.op_cols()}, type, memory::dims{m.rows * m.cols, rs, cs});
}

// m's data as bfloat16: as it is, or converted into `hold`.
void to_bf16(MatArg& m, Tensor& hold) {
  if (m.bf16) return;
  m.data = bf16_data(static_cast<const float*>(m.data), m.nb * m.rows * m.cols, hold);
  m.bf16 = true;
}

}  // namespace

void matmul_raw(const MatArg& x_in, const MatArg& y_in, float* out, float alpha, bool accumulate, const float* bias,
                bool relu) {
  MatArg x = x_in, y = y_in;
  const int64_t M = x.op_rows(), K = x.op_cols(), N = y.op_cols();
  const int64_t nbo = std::max(x.nb, y.nb);
  if (y.op_rows() != K || (x.nb != nbo && x.nb != 1) || (y.nb != nbo && y.nb != 1) || nbo < 1)
    throw Error(cat("matmul: cannot multiply ", arg_str(x), " by ", arg_str(y)));
  if (bias && alpha != 1.0f) throw Error(cat("matmul: a bias needs alpha == 1, got alpha ", alpha));
  if (relu && accumulate) throw Error("matmul: a relu post-op cannot follow accumulation");
  if (M == 0 || N == 0) return;
  count_matmul(nbo * M, N, K);
  if (K == 0) {  // oneDNN does not accept empty reductions: the product is zero
    for (int64_t i = 0; i < nbo * M * N; ++i) {
      out[i] = (accumulate ? out[i] : 0.f) + (bias ? bias[i % N] : 0.f);
      if (relu) out[i] = std::max(out[i], 0.f);
    }
    return;
  }
  // A shared (un-batched) y with a plain x is one big 2D product over the stacked rows.
  int64_t batches = nbo;
  if (y.nb == 1 && !x.trans && x.nb > 1) {
    x.rows *= x.nb;
    x.nb = 1;
    batches = 1;
  }
  Tensor hold_x, hold_y;
  if (x.bf16 || y.bf16 || bf16_active()) {
    to_bf16(x, hold_x);
    to_bf16(y, hold_y);
  }
  const bool batched = batches > 1;
  const std::string key = cat(x.bf16 ? "matmul-bf16|" : "matmul|", arg_str(x), "|", arg_str(y), "|", batched, "|",
                              key_float(alpha), "|", accumulate, "|", bias != nullptr, "|", relu);
  auto& ctx = Context::get();
  auto& p = ctx.cached<MatmulPrim>(key, [&] {
    return dnnl_build(cat("matmul ", arg_str(x), " by ", arg_str(y)), [&] {
      MatmulPrim r;
      r.src = op_md(x, batched);
      r.wei = op_md(y, batched);
      const int64_t rows = x.op_rows();
      r.dst = batched ? plain_md({batches, rows, N}) : plain_md({rows, N});
      dnnl::primitive_attr attr = nmt_attr();
      if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
      dnnl::post_ops ops;
      if (accumulate) ops.append_sum(1.0f);
      if (relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
      if (bias) {
        r.bias = batched ? plain_md({1, 1, N}) : plain_md({1, N});
        r.pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(r.src, r.wei, r.bias, r.dst), attr, ctx.engine());
      } else {
        r.pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(r.src, r.wei, r.dst), attr, ctx.engine());
      }
      r.prim = dnnl::matmul(r.pd);
      return r;
    });
  });
  auto& eng = ctx.engine();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(p.src, eng, const_cast<void*>(x.data))},
                                       {DNNL_ARG_WEIGHTS, memory(p.wei, eng, const_cast<void*>(y.data))},
                                       {DNNL_ARG_DST, memory(p.dst, eng, out)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(p.bias, eng, const_cast<float*>(bias)));
  dnnl_execute(p.prim, args);
}

Shape matmul_shape(const Shape& a, const Shape& b, bool trans_a, bool trans_b) {
  const int ra = static_cast<int>(a.size()), rb = static_cast<int>(b.size());
  auto fail = [&](const char* why) {
    return Error(cat("matmul: cannot multiply A ", shape_str(a), trans_a ? " (transposed)" : "", " by B ", shape_str(b),
                     trans_b ? " (transposed)" : "", ": ", why));
  };
  if (ra < 2 || rb < 2) throw fail("both need rank >= 2");
  if (rb != ra && rb != 2) throw fail("B must have A's rank or rank 2");
  if (rb == ra && !std::equal(a.begin(), a.end() - 2, b.begin())) throw fail("batch dimensions differ");
  const int64_t M = trans_a ? a[ra - 1] : a[ra - 2], K = trans_a ? a[ra - 2] : a[ra - 1];
  const int64_t Kb = trans_b ? b[rb - 1] : b[rb - 2], N = trans_b ? b[rb - 2] : b[rb - 1];
  if (K != Kb) throw fail("inner dimensions differ");
  Shape c(a.begin(), a.end() - 2);
  c.push_back(M);
  c.push_back(N);
  return c;
}

namespace {
struct Operands {
  MatArg a, b, dc;
  bool shared;  // b is rank 2, used by every batch of a
};

Operands operands(const Operand& a, const Operand& b, const Operand& dc, bool ta, bool tb) {
  const int64_t ar = a.dim(-2), ac = a.dim(-1);
  int64_t batch = 1;
  for (int i = 0; i + 2 < a.rank(); ++i) batch *= a.dim(i);
  const bool shared = b.rank() == 2 && a.rank() > 2;
  const int64_t M = ta ? ac : ar, N = tb ? b.dim(-2) : b.dim(-1);
  return {{a.data(), batch, ar, ac, ta, a.bf16()},
          {b.data(), shared ? 1 : batch, b.dim(-2), b.dim(-1), tb, b.bf16()},
          {dc.data(), batch, M, N, false, dc.bf16()},
          shared};
}
}  // namespace

void matmul_forward(const Operand& a, const Operand& b, Tensor& c, bool trans_a, bool trans_b, float alpha,
                    bool accumulate) {
  Shape cs = matmul_shape(a.shape(), b.shape(), trans_a, trans_b);
  if (c.shape() != cs)
    throw Error(cat("matmul_forward: output has shape ", shape_str(c.shape()), ", expected ", shape_str(cs)));
  Operands o = operands(a, b, Tensor(), trans_a, trans_b);
  matmul_raw(o.a, o.b, c.data(), alpha, accumulate);
}

void matmul_backward(const Operand& a, const Operand& b, const Tensor& dc, Tensor* da, Tensor* db, bool trans_a,
                     bool trans_b, float alpha, bool accumulate_a, bool accumulate_b) {
  Shape cs = matmul_shape(a.shape(), b.shape(), trans_a, trans_b);
  if (dc.shape() != cs)
    throw Error(
        cat("matmul_backward: output gradient has shape ", shape_str(dc.shape()), ", expected ", shape_str(cs)));
  if (da && da->shape() != a.shape())
    throw Error(cat("matmul_backward: da has shape ", shape_str(da->shape()), ", A has ", shape_str(a.shape())));
  if (db && db->shape() != b.shape())
    throw Error(cat("matmul_backward: db has shape ", shape_str(db->shape()), ", B has ", shape_str(b.shape())));
  // In bfloat16, dc is converted here once rather than by each of its two products.
  const bool bf16 = a.bf16() || b.bf16() || bf16_active();
  const Operand g = bf16 && da && db ? Operand::for_product(dc) : Operand(dc);  // alive for both products
  Operands o = operands(a, b, g, trans_a, trans_b);
  MatArg A = o.a, B = o.b, dC = o.dc;
  if (da) {
    // d op(A) = dC op(B)^T; for a transposed A, dA = op(B) dC^T.
    MatArg Bt = B;
    if (!trans_a) {
      Bt.trans = !trans_b;
      matmul_raw(dC, Bt, da->data(), alpha, accumulate_a);
    } else {
      MatArg dCt = dC;
      dCt.trans = true;
      matmul_raw(B, dCt, da->data(), alpha, accumulate_a);
    }
  }
  if (db) {
    // d op(B) = op(A)^T dC; for a transposed B, dB = dC^T op(A).
    MatArg x, y;
    if (!trans_b) {
      x = A, x.trans = !trans_a;
      y = dC;
    } else {
      x = dC, x.trans = true;
      y = A;
    }
    if (!o.shared) {
      matmul_raw(x, y, db->data(), alpha, accumulate_b);
    } else if (!trans_a) {
      // The sum over the batches of a shared B is one 2D product over the stacked rows.
      for (MatArg* m : {&x, &y}) m->rows *= m->nb, m->nb = 1;
      matmul_raw(x, y, db->data(), alpha, accumulate_b);
    } else {
      // A's stacked transposes cannot be one strided 2D matrix: batched product, then a sum.
      const int64_t n = db->numel(), batch = A.nb;
      Tensor per_batch({batch, n});
      matmul_raw(x, y, per_batch.data(), alpha, false);
      float* g = db->data();
      const float* s = per_batch.data();
#pragma omp parallel for if (n * batch > 32768)
      for (int64_t j = 0; j < n; ++j) {
        float sum = 0.f;
        for (int64_t k = 0; k < batch; ++k) sum += s[k * n + j];
        g[j] = accumulate_b ? g[j] + sum : sum;
      }
    }
  }
}

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b, float alpha) {
  Var c = result(Tensor(matmul_shape(a->value.shape(), b->value.shape(), trans_a, trans_b)), {&a, &b});
  // Under a Bf16Scope each input is converted once, for this product and for the backward's.
  const Operand av = Operand::for_product(a->value), bv = Operand::for_product(b->value);
  matmul_forward(av, bv, c->value, trans_a, trans_b, alpha);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), b = b.node(), c = c.node(), av = saved_if(b->requires_grad, av),
                          bv = saved_if(a->requires_grad, bv), trans_a, trans_b, alpha] {
      if (c->grad.empty()) return;
      // a's gradient is written before b's, so for a == b the second write adds to the first.
      const Node::GradOut da = a->requires_grad ? a->grad_out() : Node::GradOut{};
      const Node::GradOut db = b->requires_grad ? b->grad_out() : Node::GradOut{};
      matmul_backward(av, bv, c->grad, da.buffer, db.buffer, trans_a, trans_b, alpha, da.accumulate, db.accumulate);
    });
  }
  return c;
}

}  // namespace nmt
