#include "core/context.h"

#include <omp.h>
#include <pmmintrin.h>
#include <xmmintrin.h>

#include <cstring>

#include "core/error.h"

namespace nmt {

namespace {
dnnl::engine& process_engine() {
  static dnnl::engine* engine = [] {
    // Our caches hold the primitives we replay; oneDNN's own cache of primitive
    // implementations would keep evicted ones' JIT code alive a second time.
    dnnl::set_primitive_cache_capacity(64);
    return new dnnl::engine(dnnl::engine::kind::cpu, 0);  // never destroyed: contexts may outlive it
  }();
  return *engine;
}
}  // namespace

void flush_denormals() { _mm_setcsr(_mm_getcsr() | _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON); }

bool flushes_denormals() {
  const unsigned both = _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON;
  return (_mm_getcsr() & both) == both;
}

Context::Context() : engine_(process_engine()), stream_(engine_) {
  // On this thread and on the OpenMP team it runs ops on; threads created later inherit the mode
  // from the thread that creates them (pthread_create copies the floating-point environment).
  flush_denormals();
#pragma omp parallel
  flush_denormals();
}

Context& Context::get() {
  thread_local Context ctx;
  return ctx;
}

void Context::set_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

int Context::threads() const { return omp_get_max_threads(); }

dnnl::memory::desc plain_md(const Shape& shape) {
  dnnl::memory::dims dims(shape.begin(), shape.end());
  Shape strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * shape[i + 1];
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::dims(strides.begin(), strides.end()));
}

dnnl::memory::desc strided_md(const Shape& shape, const Shape& strides) {
  if (shape.size() != strides.size())
    throw Error(cat("strided_md: shape ", shape_str(shape), " with strides ", shape_str(strides)));
  return dnnl::memory::desc(dnnl::memory::dims(shape.begin(), shape.end()), dnnl::memory::data_type::f32,
                            dnnl::memory::dims(strides.begin(), strides.end()));
}

dnnl::memory as_memory(const Tensor& t, const dnnl::memory::desc& md) {
  return dnnl::memory(md, Context::get().engine(), const_cast<float*>(t.data()));
}

namespace {
std::string md_key(const dnnl::memory::desc& md) {
  // The C descriptor is plain data: its bytes identify the layout exactly.
  const auto& d = md.data;
  return std::string(reinterpret_cast<const char*>(&d), sizeof(d));
}
}  // namespace

void reorder(const dnnl::memory& src, const dnnl::memory& dst) {
  auto& ctx = Context::get();
  auto& prim = ctx.cached<dnnl::reorder>("reorder" + md_key(src.get_desc()) + md_key(dst.get_desc()),
                                         [&] { return dnnl::reorder(src, dst); });
  prim.execute(ctx.stream(), const_cast<dnnl::memory&>(src), const_cast<dnnl::memory&>(dst));
}

std::string key_dims(const Shape& shape) { return shape_str(shape); }

}  // namespace nmt
