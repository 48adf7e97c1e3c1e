#include "core/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace nmt {
namespace {

// Size classes: 8 per power of two (at most 12.5% waste), multiples of 64 bytes.
size_t size_class(size_t bytes) {
  if (bytes <= 256) return 256;
  size_t top = 1;
  while ((top << 1) <= bytes) top <<= 1;  // highest power of two <= bytes
  size_t step = top / 8;  // aligned_alloc needs a multiple of the alignment (64)
  if (step < 64) step = 64;
  return (bytes + step - 1) / step * step;
}

// Cached (free) bytes kept at most; past it, cached blocks are returned to the system
// before a new block is allocated. Batches of varying shapes would otherwise leave
// blocks of every size behind.
constexpr size_t kMaxCachedBytes = size_t{256} << 20;

struct Pool {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_lists;  // block size -> cached blocks
  std::unordered_map<void*, size_t> block_size;     // every block we handed out
  size_t held = 0;    // bytes of all blocks, in use or cached
  size_t cached = 0;  // bytes of cached blocks
  size_t peak_in_use = 0;
  void note_use() {
    if (held - cached > peak_in_use) peak_in_use = held - cached;
  }

  // Frees cached blocks, largest first, until at most `keep` bytes stay cached.
  void trim(size_t keep) {
    for (auto it = free_lists.end(); cached > keep && it != free_lists.begin();) {
      --it;
      auto& list = it->second;
      while (!list.empty() && cached > keep) {
        std::free(list.back());
        block_size.erase(list.back());
        list.pop_back();
        cached -= it->first;
        held -= it->first;
      }
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: tensors may outlive static destruction
  return *p;
}

}  // namespace

void* pool_alloc(size_t bytes) {
  const size_t cls = size_class(bytes);
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  // Best fit among cached blocks no more than twice the size asked for.
  auto it = pl.free_lists.lower_bound(cls);
  while (it != pl.free_lists.end() && it->first <= 2 * cls && it->second.empty()) ++it;
  if (it != pl.free_lists.end() && it->first <= 2 * cls) {
    void* p = it->second.back();
    it->second.pop_back();
    pl.cached -= it->first;
    pl.note_use();
    return p;
  }
  if (pl.cached + cls > kMaxCachedBytes) pl.trim(kMaxCachedBytes / 2);
  void* p = std::aligned_alloc(64, cls);
  if (!p) throw std::bad_alloc();
  pl.block_size[p] = cls;
  pl.held += cls;
  pl.note_use();
  return p;
}

void pool_free(void* p, size_t /*bytes*/) {
  if (!p) return;
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  const size_t size = pl.block_size.at(p);
  pl.free_lists[size].push_back(p);
  pl.cached += size;
}

void pool_release() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  pl.trim(0);
}

size_t pool_peak_bytes_in_use() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  return pl.peak_in_use;
}

size_t pool_bytes_held() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  return pl.held;
}

}  // namespace nmt
