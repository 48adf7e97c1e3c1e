#include "ops/shape_ops.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace nmt {

namespace {

constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they save
constexpr int64_t kBlock = 256;          // column block for conflict-free parallel scatter-adds

// a viewed as [outer, a.dim(axis), inner].
int64_t outer_of(const Shape& s, int axis) {
  int64_t n = 1;
  for (int i = 0; i < axis; ++i) n *= s[i];
  return n;
}
int64_t inner_of(const Shape& s, int axis) {
  int64_t n = 1;
  for (size_t i = axis + 1; i < s.size(); ++i) n *= s[i];
  return n;
}

void add_into(const float* src, float* dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// Copies a [outer, src_len, inner] block range into [outer, dst_len, inner]: for every o,
// `len` rows starting at src_off go to rows starting at dst_off. Accumulates when asked.
void strided_rows(const float* src, int64_t src_len, int64_t src_off, float* dst, int64_t dst_len, int64_t dst_off,
                  int64_t len, int64_t outer, int64_t inner, bool accumulate) {
  const int64_t chunk = len * inner;
#pragma omp parallel for if (outer * chunk > kParallelMin)
  for (int64_t o = 0; o < outer; ++o) {
    const float* s = src + (o * src_len + src_off) * inner;
    float* d = dst + (o * dst_len + dst_off) * inner;
    if (accumulate)
      add_into(s, d, chunk);
    else if (chunk)
      std::memcpy(d, s, chunk * sizeof(float));
  }
}

// ---- checks ----
void check_slice(const Tensor& a, int axis, int64_t begin, int64_t end) {
  const int64_t d = a.shape()[axis];
  if (begin < 0 || begin > end || end > d)
    throw Error(cat("slice: range [", begin, ", ", end, ") out of bounds for axis ", axis, " of size ", d, " (shape ",
                    shape_str(a.shape()), ")"));
}

Shape check_concat(const std::vector<Var>& xs, int axis) {
  if (xs.empty()) throw Error("concat: no inputs");
  Shape out = xs[0]->value.shape();
  out[axis] = 0;
  for (const Var& x : xs) {
    const Shape& s = x->value.shape();
    bool ok = s.size() == out.size();
    for (size_t i = 0; ok && i < s.size(); ++i) ok = (int)i == axis || s[i] == out[i];
    if (!ok) {
      std::string all;
      for (const Var& y : xs) all += shape_str(y->value.shape()) + " ";
      throw Error(cat("concat: shapes differ off axis ", axis, ": ", all));
    }
    out[axis] += s[axis];
  }
  return out;
}

void check_perm(const Tensor& a, const std::vector<int>& perm) {
  const int r = a.rank();
  bool ok = static_cast<int>(perm.size()) == r && r <= 5;
  std::vector<bool> seen(r, false);
  for (size_t i = 0; ok && i < perm.size(); ++i) {
    ok = perm[i] >= 0 && perm[i] < r && !seen[perm[i]];
    if (ok) seen[perm[i]] = true;
  }
  if (!ok)
    throw Error(cat("transpose: ", vec_str(perm), " is not a permutation of the axes of shape ", shape_str(a.shape()),
                    " (rank must be <= 5)"));
}

void check_index(const char* op, const Tensor& a, int axis, const std::vector<int32_t>& index) {
  const int64_t d = a.shape()[axis];
  for (size_t j = 0; j < index.size(); ++j)
    if (index[j] < 0 || index[j] >= d)
      throw Error(cat(op, ": index ", index[j], " at position ", j, " out of range [0, ", d, ") on axis ", axis,
                      " of shape ", shape_str(a.shape())));
}

// ---- transpose core: rank padded to 5 ----
struct PermPlan {
  int64_t out_dims[5];
  int64_t src_strides[5];  // stride in the input of each output axis
};

PermPlan plan_perm(const Shape& in_shape, const std::vector<int>& perm) {
  const int r = static_cast<int>(in_shape.size());
  const int pad = 5 - r;
  int64_t in_dims[5], in_strides[5];
  for (int i = 0; i < 5; ++i) in_dims[i] = i < pad ? 1 : in_shape[i - pad];
  int64_t s = 1;
  for (int i = 4; i >= 0; --i) {
    in_strides[i] = s;
    s *= in_dims[i];
  }
  PermPlan p;
  for (int k = 0; k < 5; ++k) {
    const int src_axis = k < pad ? k : perm[k - pad] + pad;
    p.out_dims[k] = in_dims[src_axis];
    p.src_strides[k] = in_strides[src_axis];
  }
  return p;
}

// How permute moves values: gather the output row-major from strided input, or scatter a
// row-major gradient back into strided places, adding or assigning.
enum class Move { Gather, ScatterAdd, Scatter };

// Walks the output in row-major order. Gather: x input, y output. Scatter*: x the output's
// gradient, y the input's gradient.
template <Move M>
void permute(const PermPlan& p, const float* x, float* y) {
  const int64_t* d = p.out_dims;
  const int64_t* st = p.src_strides;
  const int64_t rows = d[0] * d[1] * d[2] * d[3];
  const int64_t n4 = d[4];
#pragma omp parallel for if (rows * n4 > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r;
    const int64_t i3 = rem % d[3];
    rem /= d[3];
    const int64_t i2 = rem % d[2];
    rem /= d[2];
    const int64_t i1 = rem % d[1];
    const int64_t i0 = rem / d[1];
    const int64_t base = i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3];
    if (M == Move::Gather) {
      float* out = y + r * n4;
      if (st[4] == 1) {
        std::memcpy(out, x + base, n4 * sizeof(float));
      } else {
        for (int64_t i4 = 0; i4 < n4; ++i4) out[i4] = x[base + i4 * st[4]];
      }
    } else if (M == Move::ScatterAdd) {
      const float* g = x + r * n4;
      if (st[4] == 1) {
        add_into(g, y + base, n4);
      } else {
        for (int64_t i4 = 0; i4 < n4; ++i4) y[base + i4 * st[4]] += g[i4];
      }
    } else {
      const float* g = x + r * n4;
      if (st[4] == 1) {
        std::memcpy(y + base, g, n4 * sizeof(float));
      } else {
        for (int64_t i4 = 0; i4 < n4; ++i4) y[base + i4 * st[4]] = g[i4];
      }
    }
  }
}

// Piece i of a permute cut along its first output axis (index `first` of the padded plan):
// that axis shrunk to one entry, and the input offset of entry i.
PermPlan piece_plan(const PermPlan& p, int first) {
  PermPlan q = p;
  q.out_dims[first] = 1;
  return q;
}

}  // namespace

int normalize_axis(const char* op, int axis, int rank) {
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw Error(cat(op, ": axis ", axis, " out of range for rank ", rank));
  return a;
}

// ---------------- kernels ----------------

void slice_forward(const Tensor& a, int axis, int64_t begin, Tensor& out) {
  const Shape& s = a.shape();
  strided_rows(a.data(), s[axis], begin, out.data(), out.shape()[axis], 0, out.shape()[axis], outer_of(s, axis),
               inner_of(s, axis), false);
}

void slice_backward(const Tensor& dout, int axis, int64_t begin, Tensor& da) {
  const Shape& s = da.shape();
  strided_rows(dout.data(), dout.shape()[axis], 0, da.data(), s[axis], begin, dout.shape()[axis], outer_of(s, axis),
               inner_of(s, axis), true);
}

void concat_forward(const std::vector<const Tensor*>& xs, int axis, Tensor& out) {
  const Shape& s = out.shape();
  const int64_t outer = outer_of(s, axis), inner = inner_of(s, axis);
  int64_t off = 0;
  for (const Tensor* x : xs) {
    const int64_t len = x->shape()[axis];
    strided_rows(x->data(), len, 0, out.data(), s[axis], off, len, outer, inner, false);
    off += len;
  }
}

void concat_backward(const Tensor& dout, int axis, const std::vector<int64_t>& lengths,
                     const std::vector<Tensor*>& dxs) {
  const Shape& s = dout.shape();
  const int64_t outer = outer_of(s, axis), inner = inner_of(s, axis);
  int64_t off = 0;
  for (size_t i = 0; i < dxs.size(); ++i) {
    if (dxs[i]) strided_rows(dout.data(), s[axis], off, dxs[i]->data(), lengths[i], 0, lengths[i], outer, inner, true);
    off += lengths[i];
  }
}

void transpose_forward(const Tensor& a, const std::vector<int>& perm, Tensor& out) {
  permute<Move::Gather>(plan_perm(a.shape(), perm), a.data(), out.data());
}

void transpose_backward(const Tensor& dout, const std::vector<int>& perm, Tensor& da, bool accumulate) {
  if (accumulate) {
    permute<Move::ScatterAdd>(plan_perm(da.shape(), perm), dout.data(), da.data());
    return;
  }
  std::vector<int> inverse(perm.size());  // da is dout permuted back
  for (size_t k = 0; k < perm.size(); ++k) inverse[perm[k]] = static_cast<int>(k);
  permute<Move::Gather>(plan_perm(dout.shape(), inverse), dout.data(), da.data());
}

void transpose_unbind_forward(const Tensor& a, const std::vector<int>& perm, const std::vector<Tensor*>& outs) {
  const PermPlan p = plan_perm(a.shape(), perm);
  const int first = 5 - a.rank();
  const PermPlan q = piece_plan(p, first);
  for (size_t i = 0; i < outs.size(); ++i)
    permute<Move::Gather>(q, a.data() + static_cast<int64_t>(i) * p.src_strides[first], outs[i]->data());
}

void transpose_unbind_backward(const std::vector<const Tensor*>& douts, const std::vector<int>& perm, Tensor& da,
                               bool accumulate) {
  const PermPlan p = plan_perm(da.shape(), perm);
  const int first = 5 - da.rank();
  const PermPlan q = piece_plan(p, first);
  // Assigning covers all of da only when every piece has a gradient: the pieces' places
  // are disjoint and together make up da.
  if (!accumulate && std::find(douts.begin(), douts.end(), nullptr) != douts.end()) {
    da.zero();
    accumulate = true;
  }
  for (size_t i = 0; i < douts.size(); ++i) {
    if (!douts[i]) continue;
    float* place = da.data() + static_cast<int64_t>(i) * p.src_strides[first];
    if (accumulate)
      permute<Move::ScatterAdd>(q, douts[i]->data(), place);
    else
      permute<Move::Scatter>(q, douts[i]->data(), place);
  }
}

void index_select_forward(const Tensor& a, int axis, const std::vector<int32_t>& index, Tensor& out) {
  const Shape& s = a.shape();
  const int64_t outer = outer_of(s, axis), inner = inner_of(s, axis), d = s[axis];
  const int64_t n = static_cast<int64_t>(index.size());
  const float* x = a.data();
  float* y = out.data();
#pragma omp parallel for if (outer * n * inner > kParallelMin)
  for (int64_t r = 0; r < outer * n; ++r) {
    const int64_t o = r / n, j = r % n;
    std::memcpy(y + r * inner, x + (o * d + index[j]) * inner, inner * sizeof(float));
  }
}

void index_select_backward(const Tensor& dout, int axis, const std::vector<int32_t>& index, Tensor& da) {
  const Shape& s = da.shape();
  const int64_t outer = outer_of(s, axis), inner = inner_of(s, axis), d = s[axis];
  const int64_t n = static_cast<int64_t>(index.size());
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const float* g = dout.data();
  float* dx = da.data();
  // Each (outer row, column block) is owned by one thread, so repeated indices never race.
#pragma omp parallel for if (outer * n * inner > kParallelMin)
  for (int64_t u = 0; u < outer * blocks; ++u) {
    const int64_t o = u / blocks, b0 = (u % blocks) * kBlock;
    const int64_t len = std::min(kBlock, inner - b0);
    for (int64_t j = 0; j < n; ++j) add_into(g + (o * n + j) * inner + b0, dx + (o * d + index[j]) * inner + b0, len);
  }
}

// ---------------- Var ops ----------------

Var reshape(const Var& a, const Shape& shape) {
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (s[i] < 0) {
      throw Error(cat("reshape: bad target shape ", shape_str(shape), " for ", shape_str(a->value.shape())));
    } else {
      known *= s[i];
    }
  }
  const int64_t n = a->value.numel();
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      throw Error(cat("reshape: cannot infer -1 in ", shape_str(shape), " for ", shape_str(a->value.shape())));
    s[infer] = n / known;
  }
  if (numel(s) != n)
    throw Error(cat("reshape: cannot reshape ", shape_str(a->value.shape()), " to ", shape_str(shape)));
  Var c = result(a->value.reshape(s), {&a});
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), c = c.node()] {
      if (c->grad.empty()) return;
      a->take_grad(std::exchange(c->grad, Tensor()).reshape(a->value.shape()));
    });
  }
  return c;
}

Var concat(const std::vector<Var>& xs, int axis) {
  if (xs.empty()) throw Error("concat: no inputs");
  const int ax = normalize_axis("concat", axis, xs[0]->value.rank());
  Shape out_shape = check_concat(xs, ax);
  std::vector<const Tensor*> vals;
  bool any_grad = false;
  for (const Var& x : xs) {
    vals.push_back(&x->value);
    any_grad = any_grad || x->requires_grad;
  }
  Var c = leaf(Tensor(out_shape), Tape::current().enabled() && any_grad);
  c->releasable = true;
  concat_forward(vals, ax, c->value);
  if (c->requires_grad) {
    std::vector<NodeRef> nodes;
    for (const Var& x : xs) nodes.push_back(x.node());
    Tape::current().push([xs = std::move(nodes), c = c.node(), ax] {
      if (c->grad.empty()) return;
      std::vector<int64_t> lengths;
      std::vector<Tensor*> grads;
      for (const NodeRef& x : xs) {
        lengths.push_back(x->value.shape()[ax]);
        grads.push_back(x->requires_grad ? &x->grad_buffer() : nullptr);
      }
      concat_backward(c->grad, ax, lengths, grads);
    });
  }
  return c;
}

Var slice(const Var& a, int axis, int64_t begin, int64_t end) {
  const int ax = normalize_axis("slice", axis, a->value.rank());
  check_slice(a->value, ax, begin, end);
  Shape s = a->value.shape();
  s[ax] = end - begin;
  Var c = result(Tensor(s), {&a});
  slice_forward(a->value, ax, begin, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), c = c.node(), ax, begin] {
      if (c->grad.empty()) return;
      slice_backward(c->grad, ax, begin, a->grad_buffer());
    });
  }
  return c;
}

std::vector<Var> split(const Var& a, int axis, const std::vector<int64_t>& sizes) {
  const int ax = normalize_axis("split", axis, a->value.rank());
  int64_t total = 0;
  bool ok = true;
  for (int64_t n : sizes) {
    ok = ok && n >= 0;
    total += n;
  }
  if (!ok || total != a->value.shape()[ax])
    throw Error(cat("split: sizes ", vec_str(sizes), " do not partition axis ", axis, " of shape ",
                    shape_str(a->value.shape())));
  std::vector<Var> out;
  int64_t off = 0;
  for (int64_t n : sizes) {
    out.push_back(slice(a, ax, off, off + n));
    off += n;
  }
  return out;
}

Var transpose(const Var& a, const std::vector<int>& perm) {
  check_perm(a->value, perm);
  Shape s(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) s[k] = a->value.shape()[perm[k]];
  Var c = result(Tensor(s), {&a});
  transpose_forward(a->value, perm, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), c = c.node(), perm] {
      if (c->grad.empty()) return;
      const Node::GradOut da = a->grad_out();
      transpose_backward(c->grad, perm, *da.buffer, da.accumulate);
    });
  }
  return c;
}

std::vector<Var> transpose_unbind(const Var& a, const std::vector<int>& perm) {
  check_perm(a->value, perm);
  if (perm.empty()) throw Error("transpose_unbind: a rank-0 tensor has no axis to cut along");
  Shape s;
  for (size_t k = 1; k < perm.size(); ++k) s.push_back(a->value.shape()[perm[k]]);
  std::vector<Var> pieces;
  std::vector<Tensor*> outs;
  for (int64_t i = 0; i < a->value.shape()[perm[0]]; ++i) {
    pieces.push_back(result(Tensor(s), {&a}));
    outs.push_back(&pieces.back()->value);
  }
  transpose_unbind_forward(a->value, perm, outs);
  if (!pieces.empty() && pieces[0]->requires_grad) {
    std::vector<NodeRef> nodes;
    for (const Var& piece : pieces) nodes.push_back(piece.node());
    Tape::current().push([a = a.node(), nodes = std::move(nodes), perm] {
      std::vector<const Tensor*> douts;
      bool any = false;
      for (const NodeRef& n : nodes) {
        douts.push_back(n->grad.empty() ? nullptr : &n->grad);
        any = any || !n->grad.empty();
      }
      if (!any) return;
      const Node::GradOut da = a->grad_out();
      transpose_unbind_backward(douts, perm, *da.buffer, da.accumulate);
    });
  }
  return pieces;
}

Var index_select(const Var& a, int axis, const std::vector<int32_t>& index) {
  const int ax = normalize_axis("index_select", axis, a->value.rank());
  check_index("index_select", a->value, ax, index);
  Shape s = a->value.shape();
  s[ax] = static_cast<int64_t>(index.size());
  Var c = result(Tensor(s), {&a});
  index_select_forward(a->value, ax, index, c->value);
  if (c->requires_grad) {
    Tape::current().push([a = a.node(), c = c.node(), ax, index] {
      if (c->grad.empty()) return;
      index_select_backward(c->grad, ax, index, a->grad_buffer());
    });
  }
  return c;
}

}  // namespace nmt
