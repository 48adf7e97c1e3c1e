// The output layer and its loss in one op: logits = h W^T + b, then the label-smoothed
// cross-entropy of each row (ops/cross_entropy.h for the definition).
//
// Composed, these hold three [M, V] buffers until the backward (logits, log-probs, logit
// gradients), the largest tensors of NMT training (V = 8,000). Fused, no [M, V] tensor
// outlives the forward: rows go through one [chunk, V] buffer (logits, turned into
// log-probs in place by oneDNN's log-softmax), and while a chunk's log-probs are at hand the
// forward also turns them into U = softmax - q and takes the products the backward needs,
// U W (for dh) and U^T h, sum U (for dW, db). The backward scales these by dloss. That is
// exact when dloss is the same for every counted row, as it is for a loss that sums (or
// averages) the rows, which is how training uses the op. For any other dloss the backward
// recomputes the logits chunk by chunk and takes the products again.
//
// Rows whose target is ignore_id (padding) are left out before the products: neither the
// forward nor the backward spends time on them.
//
// R-Drop (Liang et al. 2021, "R-Drop: Regularized Dropout for Neural Networks"): with
// twin_kl > 0 the rows are twins, row m and row m + M/2 the same target position seen through
// two dropout masks, and each twin's loss gains twin_kl / 4 * (KL(p||q) + KL(q||p)) between the
// twins' output distributions p and q, so that a pair adds the paper's twin_kl / 2 * (KL + KL)
// beside its two cross-entropies. The term couples the two rows' gradients, so both twins go
// through the same chunk.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

// hidden [M, E], w [V, E], b [V] or null Var -> per-row losses [M]; rows whose target is
// ignore_id give 0 loss and 0 gradient. chunk_rows: rows per [chunk, V] buffer (0: as many
// as fit in 18 MiB, at least 64, spread evenly over the chunks; rounded up to even with twins).
// twin_kl: R-Drop's weight (0: off); twins must have the same targets and M must be even.
Var linear_cross_entropy(const Var& hidden, const Var& w, const Var& b, const std::vector<int32_t>& targets,
                         float label_smoothing, int32_t ignore_id = 0, int64_t chunk_rows = 0, float twin_kl = 0);

}  // namespace nmt
