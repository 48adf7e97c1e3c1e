#include "core/allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace nmt {
namespace {

// Size classes: 8 per power of two (at most 12.5% waste), minimum 256 bytes.
size_t size_class(size_t bytes) {
  if (bytes <= 256) return 256;
  size_t top = 1;
  while ((top << 1) <= bytes) top <<= 1;  // highest power of two <= bytes
  size_t step = top / 8;  // >= 32 here; aligned_alloc needs a multiple of the alignment (64)
  if (step < 64) step = 64;
  return (bytes + step - 1) / step * step;
}

struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  size_t held = 0;
  ~Pool() {
    for (auto& [size, list] : free_lists)
      for (void* p : list) std::free(p);
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: tensors may outlive static destruction
  return *p;
}

}  // namespace

void* pool_alloc(size_t bytes) {
  size_t cls = size_class(bytes);
  Pool& pl = pool();
  {
    std::lock_guard<std::mutex> lock(pl.mu);
    auto it = pl.free_lists.find(cls);
    if (it != pl.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      return p;
    }
    pl.held += cls;
  }
  void* p = std::aligned_alloc(64, cls);
  if (!p) throw std::bad_alloc();
  return p;
}

void pool_free(void* p, size_t bytes) {
  if (!p) return;
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  pl.free_lists[size_class(bytes)].push_back(p);
}

void pool_release() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  for (auto& [size, list] : pl.free_lists) {
    for (void* p : list) std::free(p);
    pl.held -= size * list.size();
    list.clear();
  }
}

size_t pool_bytes_held() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  return pl.held;
}

}  // namespace nmt
