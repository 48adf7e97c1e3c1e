// The projection from the decoder's last hidden layer to vocabulary logits. With tied
// embeddings its weight is the (target) embedding table itself.
#pragma once

#include <string>
#include <vector>

#include "core/params.h"
#include "ops/linear_int8.h"

namespace nmt {

// The output layer restricted to some vocabulary entries (a shortlist, translate/shortlist.h),
// for decoding: rows `ids` of the int8 weights when an Int8Scope was alive when it was made
// (per-row scales make them the same numbers), else of the fp32 weight; and of the bias.
// Logits through it are the full logits' columns `ids`.
struct OutputSlice {
  std::vector<int32_t> ids;
  Tensor weight;     // [|ids|, dim]; empty when int8 holds the rows
  Int8Weights int8;  // [|ids|, dim] quantized; empty without an Int8Scope
  Tensor bias;       // [|ids|]; empty without a bias
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

class OutputLayer {
 public:
  // weight: [V, dim] — pass the embedding table to tie; null Var to make an own one.
  OutputLayer(ParamStore& params, const std::string& prefix, int64_t vocab, int64_t dim, Var tied_weight,
              bool bias = true);
  Var logits(const Var& hidden) const;  // [..., dim] -> [..., V]
  // Rows `ids` (each in [0, V)) of the layer, for logits(hidden, slice).
  OutputSlice slice(const std::vector<int32_t>& ids) const;
  // [..., dim] -> [..., |slice.ids|], recording no gradient; the full logits when slice is null.
  Var logits(const Var& hidden, const OutputSlice* slice) const;
  // Label-smoothed cross-entropy of each row of hidden [M, dim] against targets (pad 0
  // ignored), fused with the projection: [M]. twin_kl > 0: R-Drop's twin rows
  // (ops/linear_cross_entropy.h).
  Var losses(const Var& hidden, const std::vector<int32_t>& targets, float label_smoothing, float twin_kl = 0) const;

 private:
  Var weight_, bias_;
};

}  // namespace nmt
