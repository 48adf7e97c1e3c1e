// A caching allocator for tensor buffers. Training allocates tensors of similar sizes every
// step; returning freed blocks to size-class free lists, each serving requests down to half
// its size, avoids page faults and malloc/free of large blocks in the hot loop. Blocks of
// 1 MiB and more are mapped from the system directly (4 KiB pages, no huge pages) so a
// trimmed block leaves the process at once. The pool holds at most its peak bytes in use
// plus 1/8 (or 64 MiB): past that, cached blocks are returned before a new one is mapped.
#pragma once

#include <cstddef>

namespace nmt {

// 64-byte aligned block of at least `bytes` bytes, from the cache when possible.
void* pool_alloc(size_t bytes);
// Returns a block to the cache; `bytes` must be the size it was allocated with.
void pool_free(void* p, size_t bytes);
// Frees every cached (unused) block.
void pool_release();
// Bytes currently held by the pool, in use or cached.
size_t pool_bytes_held();
// Bytes of blocks currently in use (held minus cached).
size_t pool_bytes_in_use();
// The most bytes of tensor blocks in use at once so far.
size_t pool_peak_bytes_in_use();
// Bytes taken from the system so far (every block the cache could not serve), a running
// total: its growth over a training step is the memory the step's page faults fill.
size_t pool_bytes_from_system();
// With the environment variable NMT_POOL_TRACE set, prints to stderr the sizes of the
// blocks in use at the peak (a diagnostic; tracing slows allocation). Otherwise nothing.
void pool_trace_report();

}  // namespace nmt
