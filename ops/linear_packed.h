// fp32 inference for the affine layer y = x W^T + b with the weights in the blocked layout
// oneDNN's matmul prefers (weights descriptor `any`), reordered once and reused.
//
// Parameters are stored plain ([out, in], read as the transposed [in, out] operand), which
// the brgemm matmul must repack at every call: for the small row counts of decoding the
// repacking is a large part of the product (docs/design.md, "Decoding speed"). Training
// cannot keep packed copies (the weights change every update); a translation can.
//
// PackedScope switches linear() to this path for forward passes that record no gradient;
// packed copies are made on first use, keyed by the weights' address and the layout, and
// forgotten when the scope ends, so the scope must not outlive the weights' values (nor
// see them change). A row's result does not depend on the other rows beyond float rounding:
// oneDNN's AVX-512 kernels sum every row in the same order (bitwise equal), its AVX2 gemm
// sums the rows of a batch's tail in another order (docs/design.md, "Batch independence").
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace nmt {

// While one is alive, linear() without gradients runs linear_packed_forward.
class PackedScope {
 public:
  PackedScope();
  ~PackedScope();
  PackedScope(const PackedScope&) = delete;
  PackedScope& operator=(const PackedScope&) = delete;
};

// True while a PackedScope is alive.
bool packed_scope_active();

// y = x W^T + b, W [out, in] read through its packed copy (made on first use). Needs a live
// PackedScope (Error otherwise); y has linear_shape(x, w, b).
void linear_packed_forward(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y);

// Packed copies held by the live scope (0 without one): for tests.
int64_t packed_weights_held();

}  // namespace nmt
