// Mixed-precision training: matrix products on bfloat16 inputs, everything else fp32.
//
// While a Bf16Scope is alive on a thread, matmul_raw (and so every linear layer, attention
// product and the output layer, forward and backward) multiplies bfloat16 copies of its two
// operands with fp32 accumulation into an fp32 result, on oneDNN's AVX-512 BF16 kernels. The
// parameters (the master weights), gradients, Adam and every other op stay fp32, as in
// PyTorch's CPU autocast: only the products' inputs are rounded, to 8 significant bits.
//
// Each tensor is converted once (oneDNN reorders), not once per product that reads it:
//   - the parameter arena, once when the scope starts: an operand that lies in the arena is
//     read from that copy, so the scope must not outlive the parameters' values;
//   - an activation, once in the forward; the ops that keep it for their backward keep the
//     bfloat16 copy as an Operand, instead of the fp32 tensor;
//   - an output gradient, once for both of its products (linear_backward, matmul_backward).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace nmt {

class ParamStore;

class Bf16Scope {
 public:
  // on = false: no effect (fp32 products). params (may be null): the arena to copy once.
  Bf16Scope(bool on, const ParamStore* params);
  ~Bf16Scope();
  Bf16Scope(const Bf16Scope&) = delete;
  Bf16Scope& operator=(const Bf16Scope&) = delete;

  static const Bf16Scope* current();  // the innermost one on this thread, or null
  bool on() const { return on_; }
  // The copy of the n floats at src when they lie in the copied arena (hold then shares the
  // copy's storage), else null.
  const void* arena_copy(const float* src, int64_t n, Tensor& hold) const;

 private:
  Bf16Scope* previous_;
  bool on_;
  const float* arena_ = nullptr;  // the parameter values copied into arena16_
  int64_t arena_size_ = 0;
  Tensor arena16_;  // arena_size_ bfloat16 values
};

// True while a Bf16Scope with on = true is the innermost one on this thread.
bool bf16_active();

// What oneDNN 2.6 offers on this CPU: native bfloat16 products (AVX-512 BF16 or AMX),
// emulated ones (AVX-512 without BF16: slower than fp32), or none (below AVX-512: a product
// under a Bf16Scope throws nmt::Error).
enum class Bf16Support { none, emulated, native };
Bf16Support bf16_support();
// The instruction set oneDNN runs at here ("avx2", "avx512_core_bf16", ...).
const char* onednn_isa_name();

// One operand of a matrix product as the product reads it: an fp32 tensor (no copy), or a
// bfloat16 copy of one. Copies share their storage, like Tensors.
class Operand {
 public:
  Operand() = default;
  Operand(const Tensor& t);  // NOLINT(google-explicit-constructor): fp32, reads t itself

  // What the products of an op should read of `t`: under bf16_active(), its bfloat16 copy (a
  // view of the scope's copy when t lies in the parameter arena, else converted now); otherwise
  // t itself. With `needed` false, only t's shape (what saved_if keeps).
  static Operand for_product(const Tensor& t, bool needed = true);

  // The same shape without the data: what a backward closure keeps of an operand it does not read.
  Operand shape_only() const;

  bool bf16() const { return bf16_; }
  bool empty() const { return data_ == nullptr; }
  const void* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  // The fp32 tensor (throws nmt::Error for a bfloat16 operand).
  const Tensor& f32() const;

 private:
  Tensor storage_;  // the fp32 tensor, or the storage of the bfloat16 copy
  const void* data_ = nullptr;
  Shape shape_;
  bool bf16_ = false;
};

// The bfloat16 values of the n floats at src for a product: a pointer into the live scope's
// copy of the parameter arena when [src, src + n) lies in it, else a fresh copy held in `hold`.
const void* bf16_data(const float* src, int64_t n, Tensor& hold);

// What a backward closure captures of an operand it needs only when `needed` (as saved_if).
inline Operand saved_if(bool needed, const Operand& o) { return needed ? o : o.shape_only(); }

// n bfloat16 values converted from src (round to nearest even), in pool storage. For tests
// and matmul_raw's operands that no op converted.
Tensor convert_to_bf16(const float* src, int64_t n);
// The fp32 values of n bfloat16 values at src (exact).
Tensor bf16_to_float(const void* src, int64_t n);

}  // namespace nmt
