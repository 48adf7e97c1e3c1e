// The oneDNN engine, stream and cache of primitives the calling thread uses.
//
// Primitives are built once per (op, shapes, attributes) key and replayed: building a
// primitive descriptor and JIT-compiling its kernel costs far more than running it on
// NMT-sized tensors. Ops look their primitive up with Context::get().cached(key, make).
//
// The engine is the process's one; each thread has its own stream and cache, so that
// translation workers (translate/translator.h) run ops side by side without locks. A
// thread's primitives are built for its OpenMP thread count, which the cache key need
// not carry: a thread keeps its count while it translates or trains.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/tensor.h"

namespace nmt {

class Context {
 public:
  static Context& get();  // the calling thread's

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }

  // Returns the object cached under `key`, making it with `make` on first use.
  // T is usually a struct holding a primitive_desc and its primitive.
  //
  // The cache keeps the kCacheCapacity most recently used entries: batch shapes vary
  // (every batch has its own number of rows), and each primitive holds JIT code, so
  // an unbounded cache grew by ~27 primitives (~10 MB) per training batch. An entry
  // returned here is the most recent one, so the few cached() calls an op makes
  // before using it never evict it.
  template <typename T>
  T& cached(const std::string& key, const std::function<T()>& make) {
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.second);  // now most recent
      return *static_cast<T*>(it->second.first.get());
    }
    std::shared_ptr<void> value = std::make_shared<T>(make());
    lru_.push_front(key);
    cache_.emplace(key, std::make_pair(value, lru_.begin()));
    while (cache_.size() > kCacheCapacity) {
      cache_.erase(lru_.back());
      lru_.pop_back();
    }
    return *static_cast<T*>(value.get());
  }
  size_t cache_size() const { return cache_.size(); }
  void clear_cache() {
    cache_.clear();
    lru_.clear();
  }
  static constexpr size_t kCacheCapacity = 512;

  // OpenMP threads the calling thread gives oneDNN and our own loops (0 = leave the default).
  void set_threads(int n);
  int threads() const;

 private:
  Context();
  dnnl::engine& engine_;  // shared by every thread's context
  dnnl::stream stream_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, std::pair<std::shared_ptr<void>, std::list<std::string>::iterator>> cache_;
};

// Subnormal floats (below 1.2e-38) take a slow microcode assist in every instruction that touches one.
// Training makes them as it goes: Adam's moments of rarely seen embedding rows decay towards zero
// (79k of 4.7M moments after an hour of the tiny transformer). flush_denormals() sets the calling
// thread's SSE control word to flush subnormal results to zero (FTZ) and to read subnormal inputs as
// zero (DAZ), as PyTorch's torch.set_flush_denormal(True); a Context sets it on its thread and on that
// thread's OpenMP team when it is made.
void flush_denormals();
bool flushes_denormals();  // both FTZ and DAZ set on the calling thread

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
