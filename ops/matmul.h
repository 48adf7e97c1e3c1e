// Matrix products on oneDNN's matmul primitive: C = alpha * op(A) op(B), plain or
// batched, where op() is an optional transpose. Transposes are strided memory
// descriptors over the stored data (no copies); a batch is ONE matmul call; a rank-2 B
// is shared by every batch of A. Primitives are cached per (shapes, transposes, alpha,
// accumulate, bias, relu) key. Gradient products accumulate in place through oneDNN's sum
// post-op (or assign into a gradient's fresh buffer: Node::grad_out), so the backward needs no temporaries (except for
// the rare shared-B with transposed-A case, whose batch reduction goes through a scratch tensor).
#pragma once

#include <cstdint>

#include "core/graph.h"
#include "ops/bf16.h"

namespace nmt {

// One operand of matmul_raw: a plain row-major buffer holding `nb` stacked
// [rows, cols] matrices, used as stored or transposed.
struct MatArg {
  const void* data;  // floats, or bfloat16 values when bf16
  int64_t nb;        // number of stacked matrices; 1 = shared by every batch of the other operand
  int64_t rows;      // of each stored matrix
  int64_t cols;
  bool trans;  // use the transpose of each matrix
  bool bf16 = false;
  int64_t op_rows() const { return trans ? cols : rows; }
  int64_t op_cols() const { return trans ? rows : cols; }
};

// The one place matmul primitives are built (cached) and run, as a single oneDNN call:
//   out = alpha * op(x) op(y) + bias      (out += ... when accumulate)
// out is plain row-major [nbo, M, N] with nbo = max(x.nb, y.nb); each nb is nbo or 1.
// bias is null or N floats added to every row (requires alpha == 1). relu applies
// max(0, .) to the result as a oneDNN post-op (not with accumulate). When either operand is
// bfloat16 or a Bf16Scope is active (ops/bf16.h), both are multiplied in bfloat16 (an
// fp32 operand is converted first) with fp32 accumulation; out stays fp32.
void matmul_raw(const MatArg& x, const MatArg& y, float* out, float alpha, bool accumulate, const float* bias = nullptr,
                bool relu = false);

// Shape of alpha * op(A) op(B): A [..., M, K] ([..., K, M] if trans_a), B [..., K, N]
// ([..., N, K] if trans_b) with the same batch dims as A, or B of rank 2. Throws
// nmt::Error naming both shapes when they do not fit.
Shape matmul_shape(const Shape& a, const Shape& b, bool trans_a, bool trans_b);

// c = alpha * op(a) op(b), or c += ... when accumulate. c must have matmul_shape(...).
// a and b are fp32 Tensors or bfloat16 Operands (ops/bf16.h).
void matmul_forward(const Operand& a, const Operand& b, Tensor& c, bool trans_a = false, bool trans_b = false,
                    float alpha = 1.0f, bool accumulate = false);
// da += dL/da, db += dL/db for the product above, given dc = dL/dc (either may be null);
// da (db) is assigned instead when !accumulate_a (!accumulate_b), and written before db.
// In bfloat16 (either operand, or an active Bf16Scope) dc is converted once for both products.
void matmul_backward(const Operand& a, const Operand& b, const Tensor& dc, Tensor* da, Tensor* db, bool trans_a = false,
                     bool trans_b = false, float alpha = 1.0f, bool accumulate_a = true, bool accumulate_b = true);

Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false, float alpha = 1.0f);

}  // namespace nmt
