#include "ops/dnnl_util.h"

#include <cstdint>
#include <cstring>

#include "core/context.h"

namespace nmt {

std::string key_float(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return cat("f", bits);
}

dnnl::primitive_attr nmt_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void dnnl_execute(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args) {
  auto& stream = Context::get().stream();
  try {
    // Zero-sized unless the primitive was built in user mode and needs one.
    const dnnl_memory_desc_t* c_md =
        dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
    Tensor scratch;
    if (c_md && dnnl_memory_desc_get_size(c_md) > 0) {
      const dnnl::memory::desc md(*c_md);
      scratch = buffer_for(md);
      args[DNNL_ARG_SCRATCHPAD] = as_memory(scratch, md);
    }
    prim.execute(stream, args);
    stream.wait();
  } catch (const dnnl::error& e) {
    throw Error(cat("oneDNN primitive execution failed: ", e.what()));
  }
}

Tensor buffer_for(const dnnl::memory::desc& md) {
  return Tensor({static_cast<int64_t>((md.get_size() + sizeof(float) - 1) / sizeof(float))});
}

void add_to(Tensor& dst, const Tensor& src) {
  if (dst.numel() != src.numel())
    throw Error(cat("add_to: ", shape_str(src.shape()), " into ", shape_str(dst.shape())));
  float* d = dst.data();
  const float* s = src.data();
  const int64_t n = dst.numel();
#pragma omp parallel for simd if (n > 32768)
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

dnnl::memory ParamLayouts::get(const dnnl::memory::desc& want) {
  if (want == plain_md_) return as_memory(plain_, plain_md_);
  for (auto& [m, t] : copies_)
    if (m == want) return as_memory(t, m);
  Tensor t = buffer_for(want);
  dnnl::memory dst = as_memory(t, want);
  reorder(as_memory(plain_, plain_md_), dst);
  Context::get().stream().wait();
  copies_.emplace_back(want, t);
  return dst;
}

}  // namespace nmt
