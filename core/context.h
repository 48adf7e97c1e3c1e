// The process's one oneDNN engine and stream, and the cache of primitives.
//
// Primitives are built once per (op, shapes, attributes) key and replayed: building a
// primitive descriptor and JIT-compiling its kernel costs far more than running it on
// NMT-sized tensors. Ops look their primitive up with Context::get().cached(key, make).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/tensor.h"

namespace nmt {

class Context {
 public:
  static Context& get();

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }

  // Returns the object cached under `key`, making it with `make` on first use.
  // T is usually a struct holding a primitive_desc and its primitive.
  template <typename T>
  T& cached(const std::string& key, const std::function<T()>& make) {
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, std::make_shared<T>(make())).first;
    return *static_cast<T*>(it->second.get());
  }
  size_t cache_size() const { return cache_.size(); }
  void clear_cache() { cache_.clear(); }

  // OpenMP threads used by oneDNN and our own loops (0 = leave the default).
  void set_threads(int n);
  int threads() const;

 private:
  Context();
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::unordered_map<std::string, std::shared_ptr<void>> cache_;
};

// Plain row-major memory descriptor for a shape.
dnnl::memory::desc plain_md(const Shape& shape);
// Memory descriptor with explicit strides (in elements), e.g. a transposed view.
dnnl::memory::desc strided_md(const Shape& shape, const Shape& strides);
// A oneDNN memory object over a tensor's buffer (no copy).
dnnl::memory as_memory(const Tensor& t, const dnnl::memory::desc& md);
inline dnnl::memory as_memory(const Tensor& t) { return as_memory(t, plain_md(t.shape())); }

// Runs a reorder from one layout to another (cached by the pair of descriptors).
void reorder(const dnnl::memory& src, const dnnl::memory& dst);

// Appends a shape to a cache key: "matmul" + key_dims({2,3}) -> "matmul[2,3]".
std::string key_dims(const Shape& shape);

}  // namespace nmt
