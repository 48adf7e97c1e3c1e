// Ops that move data without arithmetic: reshape, concat, split, slice, transpose
// (general permute), transpose_unbind (a permute cut into pieces), index_select (gather
// along an axis, used for beam reordering).
// Axes may be negative (counted from the end). Each op is a forward/backward kernel
// pair on Tensors (backward accumulates into the input gradient) plus the Var op.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

// Maps a possibly negative axis into [0, rank); throws Error naming `op` otherwise.
int normalize_axis(const char* op, int axis, int rank);

// ---- kernels (shapes are assumed checked by the Var ops) ----
// out = a[..., begin:begin+out.dim(axis), ...] ; da[..., begin:..., ...] += dout
void slice_forward(const Tensor& a, int axis, int64_t begin, Tensor& out);
void slice_backward(const Tensor& dout, int axis, int64_t begin, Tensor& da);
// out = concatenation of xs along axis ; dxs[i] += its part of dout, whose size on axis is
// lengths[i] (null dxs entries are skipped).
void concat_forward(const std::vector<const Tensor*>& xs, int axis, Tensor& out);
void concat_backward(const Tensor& dout, int axis, const std::vector<int64_t>& lengths,
                     const std::vector<Tensor*>& dxs);
// out = a permuted: out.dim(k) == a.dim(perm[k]) ; da += dout permuted back (da = ... when
// not accumulate). Rank <= 5.
void transpose_forward(const Tensor& a, const std::vector<int>& perm, Tensor& out);
void transpose_backward(const Tensor& dout, const std::vector<int>& perm, Tensor& da, bool accumulate = true);
// outs[i] = transpose(a, perm)[i], i < a.dim(perm[0]), without the whole permuted tensor
// being made ; da (+)= each douts[i] permuted back into its place (null douts[i]: no
// gradient for that piece; when not accumulate, da is assigned, zero where no piece writes).
void transpose_unbind_forward(const Tensor& a, const std::vector<int>& perm, const std::vector<Tensor*>& outs);
void transpose_unbind_backward(const std::vector<const Tensor*>& douts, const std::vector<int>& perm, Tensor& da,
                               bool accumulate);
// out[..., j, ...] = a[..., index[j], ...] ; da[..., index[j], ...] += dout[..., j, ...]
void index_select_forward(const Tensor& a, int axis, const std::vector<int32_t>& index, Tensor& out);
void index_select_backward(const Tensor& dout, int axis, const std::vector<int32_t>& index, Tensor& da);

// ---- Var ops ----
// Same storage, new shape; one dimension may be -1 (inferred).
Var reshape(const Var& a, const Shape& shape);
// All xs have the same rank and equal sizes on every axis but `axis`.
Var concat(const std::vector<Var>& xs, int axis);
// Pieces of the given sizes along axis (sizes must sum to a.dim(axis)).
std::vector<Var> split(const Var& a, int axis, const std::vector<int64_t>& sizes);
// a[..., begin:end, ...] along axis, 0 <= begin <= end <= a.dim(axis).
Var slice(const Var& a, int axis, int64_t begin, int64_t end);
// General permute: perm is a permutation of 0..rank-1, rank <= 5.
Var transpose(const Var& a, const std::vector<int>& perm);
// The pieces of transpose(a, perm) along its first axis, each without that axis: what
// split(transpose(a, perm), 0, {1, 1, ...}) gives after dropping the leading 1, in one copy
// instead of two, and whose backward writes each piece's gradient straight into a's.
// (Multi-head attention cuts its fused Q, K, V projection this way.)
std::vector<Var> transpose_unbind(const Var& a, const std::vector<int>& perm);
// Gathers entries of axis by index (repeats allowed); gradient scatter-adds.
Var index_select(const Var& a, int axis, const std::vector<int32_t>& index);

}  // namespace nmt
