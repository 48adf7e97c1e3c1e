// The output layer and its loss in one op: logits = h W^T + b, then the label-smoothed
// cross-entropy of each row (core/ops/cross_entropy.h for the definition).
//
// Composed, these hold three [M, V] buffers until the backward (logits, log-probs,
// logit gradients), the largest tensors of NMT training (V = 8,000). Fused, one buffer
// holds the logits, is turned into log-probs in place (oneDNN log-softmax), and into
// the logit gradients in place in the backward (oneDNN exp, then subtracting q), which
// then feed the matmuls of the linear backward.
//
// Rows whose target is ignore_id (padding) are left out before the product: the buffer
// is [rows that count, V], and neither the forward nor the backward spends time on them.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

// hidden [M, E], w [V, E], b [V] or null Var -> per-row losses [M]; rows whose target is
// ignore_id give 0 loss and 0 gradient.
Var linear_cross_entropy(const Var& hidden, const Var& w, const Var& b, const std::vector<int32_t>& targets,
                         float label_smoothing, int32_t ignore_id = 0);

}  // namespace nmt
