#include "ops/linear.h"

#include <algorithm>

#include "core/error.h"
#include "ops/linear_int8.h"
#include "ops/linear_packed.h"
#include "ops/matmul.h"

namespace nmt {

namespace {
// Number of rows of x [..., in] seen as a 2D matrix.
int64_t row_count(const Operand& x) {
  int64_t rows = 1;
  for (int i = 0; i + 1 < x.rank(); ++i) rows *= x.dim(i);
  return rows;
}

Shape shape_of(const Shape& x, const Shape& w, const Tensor* b) {
  if (x.empty() || w.size() != 2 || x.back() != w[1] || (b && (b->rank() != 1 || b->dim(0) != w[0])))
    throw Error(cat("linear: x ", shape_str(x), ", W ", shape_str(w), ", b ",
                    b ? shape_str(b->shape()) : std::string("none"),
                    " do not fit (need x [..., in], W [out, in], b [out])"));
  Shape y = x;
  y.back() = w[0];
  return y;
}
}  // namespace

Shape linear_shape(const Tensor& x, const Tensor& w, const Tensor* b) { return shape_of(x.shape(), w.shape(), b); }

namespace {
void linear_product(const Operand& x, const Operand& w, const Tensor* b, Tensor& y, bool relu) {
  Shape ys = shape_of(x.shape(), w.shape(), b);
  if (y.shape() != ys)
    throw Error(cat("linear_forward: output has shape ", shape_str(y.shape()), ", expected ", shape_str(ys)));
  const int64_t in = w.dim(1), out = w.dim(0), rows = row_count(x);
  matmul_raw({x.data(), 1, rows, in, false, x.bf16()}, {w.data(), 1, out, in, true, w.bf16()}, y.data(), 1.0f, false,
             b ? b->data() : nullptr, relu);
}
}  // namespace

void linear_forward(const Operand& x, const Operand& w, const Tensor* b, Tensor& y) {
  linear_product(x, w, b, y, false);
}

void linear_relu_forward(const Operand& x, const Operand& w, const Tensor* b, Tensor& y) {
  linear_product(x, w, b, y, true);
}

void linear_backward(const Operand& x, const Operand& w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db,
                     bool dx_accumulate) {
  Shape ys = shape_of(x.shape(), w.shape(), db);
  if (dy.shape() != ys)
    throw Error(
        cat("linear_backward: output gradient has shape ", shape_str(dy.shape()), ", expected ", shape_str(ys)));
  if (dx && dx->shape() != x.shape())
    throw Error(cat("linear_backward: dx has shape ", shape_str(dx->shape()), ", x has ", shape_str(x.shape())));
  if (dw && dw->shape() != w.shape())
    throw Error(cat("linear_backward: dW has shape ", shape_str(dw->shape()), ", W has ", shape_str(w.shape())));
  const int64_t in = w.dim(1), out = w.dim(0), rows = row_count(x);
  // In bfloat16, dy is converted once here rather than by each of its two products.
  const bool bf16 = x.bf16() || w.bf16() || bf16_active();
  const Operand g = bf16 && dx && dw ? Operand::for_product(dy) : Operand(dy);
  if (dx)
    matmul_raw({g.data(), 1, rows, out, false, g.bf16()}, {w.data(), 1, out, in, false, w.bf16()}, dx->data(), 1.0f,
               dx_accumulate);
  if (dw)
    matmul_raw({g.data(), 1, rows, out, true, g.bf16()}, {x.data(), 1, rows, in, false, x.bf16()}, dw->data(), 1.0f,
               true);
  if (db) {
    // Column sums of dy [rows, out], in column blocks so the inner loop is contiguous.
    constexpr int64_t kBlock = 64;
    const float* g = dy.data();
    float* d = db->data();
#pragma omp parallel for if (rows * out > 32768)
    for (int64_t j0 = 0; j0 < out; j0 += kBlock) {
      const int64_t n = std::min(kBlock, out - j0);
      float acc[kBlock] = {};
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = g + r * out + j0;
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) acc[j] += row[j];
      }
      for (int64_t j = 0; j < n; ++j) d[j0 + j] += acc[j];
    }
  }
}

void linear_backward_into(const Operand& x, const Operand& w, const Tensor& dy, Node* xn, Node* wn, Node* bn) {
  const Node::GradOut dx = xn->requires_grad ? xn->grad_out() : Node::GradOut{};
  linear_backward(x, w, dy, dx.buffer, wn->requires_grad ? &wn->grad_buffer() : nullptr,
                  bn && bn->requires_grad ? &bn->grad_buffer() : nullptr, dx.accumulate);
}

Var linear(const Var& x, const Var& w, const Var& b) {
  const Tensor* bv = b ? &b->value : nullptr;
  Var y = result(Tensor(linear_shape(x->value, w->value, bv)), {&x, &w, &b});
  // int8 or packed weights only for a leaf's weights (parameters keep their storage, so
  // the copy cached under their address stays theirs) and when no gradient is recorded.
  const bool inference = !y->requires_grad && !w.node()->releasable;
  if (const Int8Weights* q = inference ? int8_weights_in_scope(w->value) : nullptr) {
    linear_int8_forward(x->value, *q, bv, y->value);
    return y;
  }
  if (inference && packed_scope_active()) {
    linear_packed_forward(x->value, w->value, bv, y->value);
    return y;
  }
  const LinearInputs in = linear_inputs(x, w);
  linear_forward(in.x, in.w, bv, y->value);
  if (y->requires_grad) {
    Tape::current().push([x = x.node(), w = w.node(), b = b.node(), y = y.node(), xv = saved_if(w->requires_grad, in.x),
                          wv = saved_if(x->requires_grad, in.w)] {
      if (y->grad.empty()) return;
      linear_backward_into(xv, wv, y->grad, x.get(), w.get(), b.get());
    });
  }
  return y;
}

LinearInputs linear_inputs(const Var& x, const Var& w) {
  return {Operand::for_product(x->value), Operand::for_product(w->value)};
}

}  // namespace nmt
