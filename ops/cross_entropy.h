// Fused log-softmax + label-smoothed cross-entropy over a padded batch of target tokens.
//
// logits [M, V], targets M ids. Rows whose target == ignore_id (the pad id) give loss 0
// and gradient 0. With smoothing eps the target distribution is
//   q = (1 - eps) * onehot(target) + eps / V,
// the per-row loss is -sum_v q_v log softmax(logits)_v, and d loss_m / d logits_m =
// softmax - q. The log-softmax is oneDNN's softmax_v2 (algorithm::softmax_log), cached per
// shape; its output is kept for the backward, which is oneDNN's log-softmax backward
// applied to -q * dloss_m (that equals (softmax - q) * dloss_m, since q sums to 1).
// Memory: the op holds an [M, V] log-prob buffer until the tape is cleared, on top of the
// logits, so callers bound M * V through the batch size.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

// ---- kernels ----
// logp = log_softmax(logits) over rows (oneDNN); loss[m] as above.
void cross_entropy_forward(const Tensor& logits, const std::vector<int32_t>& targets, float eps, int32_t ignore_id,
                           Tensor& logp, Tensor& loss);
// dlogits (+)= (exp(logp) - q) * dloss[m] per row; overwrites instead of adding when !accumulate.
void cross_entropy_backward(const Tensor& logp, const std::vector<int32_t>& targets, float eps, int32_t ignore_id,
                            const Tensor& dloss, Tensor& dlogits, bool accumulate = true);

// ---- Var op ----
// Per-row losses [M]; sum them per sentence or over the batch.
Var cross_entropy(const Var& logits, const std::vector<int32_t>& targets, float label_smoothing, int32_t ignore_id = 0);

// Unsmoothed log p(target) per row, for scoring (no gradient). Every target must be in [0, V).
std::vector<float> target_log_probs(const Tensor& logits, const std::vector<int32_t>& targets);

}  // namespace nmt
