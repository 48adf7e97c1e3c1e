// Inverted dropout: each element is kept with probability 1 - p and scaled by 1 / (1 - p),
// so the expectation is unchanged and evaluation needs no rescaling.
//
// The mask is never stored: one 64-bit key is drawn from the Rng per call, and element i's
// fate is a keyed hash of i (32-bit, so masks repeat only beyond 2^32 elements). The backward regenerates the same mask
// from the key, the forward can run in parallel, and the result depends only on the Rng state (not on the thread
// count), so a run resumed from a saved Rng state drops exactly the same units.
#pragma once

#include <cstdint>

#include "core/graph.h"
#include "core/random.h"

namespace nmt {

// ---- kernels ----
// broadcast_axis < 0: an independent mask per element. Otherwise one mask entry is shared by
// every position along that axis (variational dropout, e.g. the same units dropped at every
// time step).
// y may be x (in place).
void dropout_forward(const Tensor& x, float p, uint64_t key, int broadcast_axis, Tensor& y);
void dropout_backward(const Tensor& dy, float p, uint64_t key, int broadcast_axis, Tensor& dx);  // dx += mask * dy

// ---- Var ops ----
// Returns x itself when p == 0 or !training. p must be in [0, 1).
Var dropout(const Var& x, float p, bool training, Rng& rng);
// Variational: the same mask along broadcast_axis (may be negative).
Var dropout(const Var& x, float p, bool training, Rng& rng, int broadcast_axis);

}  // namespace nmt
