// Attention score masking. scores [N, G, Tq, Tk] (G heads, may be 1); key_mask [N, Tk]
// with 1 = real token, 0 = padding (an empty key_mask means no padding). With `causal`,
// query q may only see keys k <= q + (Tk - Tq), i.e. k <= q when Tq == Tk (training),
// and the last Tq of Tk positions when decoding a chunk after a cached prefix.
// Masked scores become kMaskedScore: far below any real score, so a softmax gives exactly
// 0 there, yet finite, so a fully masked row gives a uniform row rather than NaNs.
// The gradient passes through unmasked entries and is zero at masked ones.
#pragma once

#include "core/graph.h"

namespace nmt {

constexpr float kMaskedScore = -1e30f;

// ---- kernels ----
void mask_scores_forward(const Tensor& scores, const Tensor& key_mask, bool causal, Tensor& out);
// dscores += dout at unmasked entries; when not accumulate, dscores = dout there and 0 at
// masked entries. dscores may be dout itself (then not accumulate).
void mask_scores_backward(const Tensor& dout, const Tensor& key_mask, bool causal, Tensor& dscores,
                          bool accumulate = true);

// ---- Var op ----
Var mask_scores(const Var& scores, const Tensor& key_mask, bool causal);

}  // namespace nmt
