// A caching allocator for tensor buffers. Training allocates the same shapes every
// step; returning freed blocks to size-class free lists avoids page faults and
// malloc/free of large blocks in the hot loop (glibc returns them to the OS).
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
// The most bytes of tensor blocks in use at once so far.
size_t pool_peak_bytes_in_use();

}  // namespace nmt
