#include "ops/bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include "core/context.h"
#include "core/error.h"
#include "core/params.h"

namespace nmt {

namespace {

using dnnl::memory;

thread_local Bf16Scope* t_scope = nullptr;

memory::desc flat_md(int64_t n, memory::data_type dt) { return memory::desc({n}, dt, memory::format_tag::a); }

// Pool storage for n bfloat16 values (two to a float).
Tensor bf16_storage(int64_t n) { return Tensor({(n + 1) / 2}); }

void convert(const void* src, memory::data_type from, void* dst, memory::data_type to, int64_t n) {
  if (n == 0) return;
  auto& eng = Context::get().engine();
  reorder(memory(flat_md(n, from), eng, const_cast<void*>(src)), memory(flat_md(n, to), eng, dst));
  Context::get().stream().wait();
}

}  // namespace

Bf16Scope::Bf16Scope(bool on, const ParamStore* params) : previous_(t_scope), on_(on) {
  if (on && params && params->allocated()) {
    arena_ = params->values();
    arena_size_ = params->size();
    arena16_ = convert_to_bf16(arena_, arena_size_);
  }
  t_scope = this;
}

Bf16Scope::~Bf16Scope() { t_scope = previous_; }

const Bf16Scope* Bf16Scope::current() { return t_scope; }

const void* Bf16Scope::arena_copy(const float* src, int64_t n, Tensor& hold) const {
  const auto at = reinterpret_cast<uintptr_t>(src), begin = reinterpret_cast<uintptr_t>(arena_);
  if (!arena_ || at < begin || at + n * sizeof(float) > begin + arena_size_ * sizeof(float)) return nullptr;
  hold = arena16_;
  return reinterpret_cast<const uint16_t*>(arena16_.data()) + (src - arena_);
}

bool bf16_active() { return t_scope && t_scope->on(); }

Bf16Support bf16_support() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core_bf16:
    case isa::avx512_core_amx:
      return Bf16Support::native;
    case isa::avx512_core:
    case isa::avx512_core_vnni:
      return Bf16Support::emulated;
    default:
      return Bf16Support::none;
  }
}

const char* onednn_isa_name() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41:
      return "sse41";
    case isa::avx:
      return "avx";
    case isa::avx2:
      return "avx2";
    case isa::avx2_vnni:
      return "avx2_vnni";
    case isa::avx512_core:
      return "avx512_core";
    case isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "another instruction set";
  }
}

Tensor convert_to_bf16(const float* src, int64_t n) {
  Tensor out = bf16_storage(n);
  convert(src, memory::data_type::f32, out.data(), memory::data_type::bf16, n);
  return out;
}

Tensor bf16_to_float(const void* src, int64_t n) {
  Tensor out({n});
  convert(src, memory::data_type::bf16, out.data(), memory::data_type::f32, n);
  return out;
}

const void* bf16_data(const float* src, int64_t n, Tensor& hold) {
  if (t_scope)
    if (const void* copy = t_scope->arena_copy(src, n, hold)) return copy;
  hold = convert_to_bf16(src, n);
  return hold.data();
}

Operand::Operand(const Tensor& t) : storage_(t), data_(t.data()), shape_(t.shape()) {}

Operand Operand::for_product(const Tensor& t, bool needed) {
  Operand o;
  o.shape_ = t.shape();
  if (!needed) return o;
  if (!bf16_active()) return Operand(t);
  o.data_ = bf16_data(t.data(), t.numel(), o.storage_);
  o.bf16_ = true;
  return o;
}

Operand Operand::shape_only() const {
  Operand o;
  o.shape_ = shape_;
  o.bf16_ = bf16_;
  return o;
}

int64_t Operand::dim(int i) const {
  const int r = rank();
  if (i < -r || i >= r) throw Error(cat("Operand::dim(", i, ") of shape ", shape_str(shape_)));
  return shape_[i < 0 ? i + r : i];
}

const Tensor& Operand::f32() const {
  if (bf16_) throw Error(cat("Operand::f32: the operand of shape ", shape_str(shape_), " holds bfloat16 values"));
  return storage_;
}

}  // namespace nmt
