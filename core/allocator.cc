#include "core/allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
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
  size_t step = top / 8;                  // aligned_alloc needs a multiple of the alignment (64)
  if (step < 64) step = 64;
  return (bytes + step - 1) / step * step;
}

// Blocks from this size on (their classes are multiples of 128 KiB) are mapped from the
// system directly, so that a trimmed block is returned at once: through malloc they would
// stay in its free lists (tcmalloc's page heap), resident and fragmented. They are kept off
// transparent huge pages, also where the system's setting is "always": oneDNN leaves parts
// of its workspaces and scratchpads untouched, and a block the cache could not serve fills
// 4 KiB at a time as it is written, where a huge page is zeroed whole at its first touch
// (docs/design.md, "Training memory": faster and smaller without them).
constexpr size_t kMapBytes = size_t{1} << 20;

void* system_alloc(size_t cls) {
  if (cls < kMapBytes) return std::aligned_alloc(64, cls);
  void* m = mmap(nullptr, cls, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
#ifdef MADV_NOHUGEPAGE
  madvise(m, cls, MADV_NOHUGEPAGE);
#endif
  return m;
}

void system_free(void* p, size_t cls) {
  if (cls < kMapBytes)
    std::free(p);
  else
    munmap(p, cls);
}

// How many bytes the pool may hold (in use + cached) before it returns cached blocks to
// the system rather than map a new one: the peak in use so far plus 1/8 (and at least
// kMinSlack), so that training's steady state — blocks of the sizes every step needs — is
// served from the cache, while blocks of the sizes of past batches do not pile up.
constexpr size_t kMinSlack = size_t{64} << 20;
size_t hold_limit(size_t peak_in_use) { return peak_in_use + std::max(peak_in_use / 8, kMinSlack); }

// The largest cached block that may serve a request of class `cls`: twice its size. A
// training step's shapes change with every batch, and a tighter fit sends most requests to
// the system, which hands out fresh pages it must zero, every update (docs/design.md,
// "Training memory"). The price is resident memory a large block holds idle while it serves
// a smaller request.
size_t max_fit(size_t cls) { return 2 * cls; }

struct Pool {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_lists;  // block size -> cached blocks
  std::unordered_map<void*, size_t> block_size;     // every block we handed out
  size_t held = 0;                                  // bytes of all blocks, in use or cached
  size_t cached = 0;                                // bytes of cached blocks
  size_t peak_in_use = 0;
  size_t peak_held = 0;
  size_t from_system = 0;  // running total of system_alloc bytes
  // NMT_POOL_TRACE set: the blocks in use, and their sizes at the last peak (diagnostics).
  bool trace = std::getenv("NMT_POOL_TRACE") != nullptr;
  std::unordered_map<void*, size_t> in_use;
  std::map<size_t, int> at_peak;

  void note_use() {
    if (held > peak_held) peak_held = held;
    if (held - cached > peak_in_use) {
      peak_in_use = held - cached;
      if (trace) {
        at_peak.clear();
        for (auto& [p, s] : in_use) ++at_peak[s];
      }
    }
  }

  // Frees cached blocks, largest first, until at most `keep` bytes stay cached.
  void trim(size_t keep) {
    for (auto it = free_lists.end(); cached > keep && it != free_lists.begin();) {
      --it;
      auto& list = it->second;
      while (!list.empty() && cached > keep) {
        system_free(list.back(), it->first);
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
  // Best fit among cached blocks not much larger than asked for.
  const size_t largest = max_fit(cls);
  auto it = pl.free_lists.lower_bound(cls);
  while (it != pl.free_lists.end() && it->first <= largest && it->second.empty()) ++it;
  if (it != pl.free_lists.end() && it->first <= largest) {
    void* p = it->second.back();
    it->second.pop_back();
    pl.cached -= it->first;
    if (pl.trace) pl.in_use[p] = it->first;
    pl.note_use();
    return p;
  }
  const size_t limit = hold_limit(pl.peak_in_use);
  if (pl.held + cls > limit) pl.trim(pl.held + cls - limit < pl.cached ? pl.cached - (pl.held + cls - limit) : 0);
  void* p = system_alloc(cls);
  if (!p) throw std::bad_alloc();
  pl.from_system += cls;
  pl.block_size[p] = cls;
  pl.held += cls;
  if (pl.trace) pl.in_use[p] = cls;
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
  if (pl.trace) pl.in_use.erase(p);
}

void pool_trace_report() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  if (!pl.trace) return;
  std::fprintf(stderr, "pool: at most %.1f MiB held (in use + cached), %.1f MiB now\n", pl.peak_held / 1048576.0,
               pl.held / 1048576.0);
  std::fprintf(stderr, "pool: peak %.1f MiB in use; blocks in use at the peak, by size:\n", pl.peak_in_use / 1048576.0);
  for (auto it = pl.at_peak.rbegin(); it != pl.at_peak.rend(); ++it)
    std::fprintf(stderr, "  %10zu bytes x %4d = %7.1f MiB\n", it->first, it->second,
                 it->first * it->second / 1048576.0);
  std::fprintf(stderr, "pool: %.1f MiB cached now, by size:\n", pl.cached / 1048576.0);
  for (auto it = pl.free_lists.rbegin(); it != pl.free_lists.rend(); ++it)
    if (!it->second.empty())
      std::fprintf(stderr, "  %10zu bytes x %4zu = %7.1f MiB\n", it->first, it->second.size(),
                   it->first * it->second.size() / 1048576.0);
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

size_t pool_bytes_from_system() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  return pl.from_system;
}

size_t pool_bytes_in_use() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  return pl.held - pl.cached;
}

size_t pool_bytes_held() {
  Pool& pl = pool();
  std::lock_guard<std::mutex> lock(pl.mu);
  return pl.held;
}

}  // namespace nmt
