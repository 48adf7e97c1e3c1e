// The projection from the decoder's last hidden layer to vocabulary logits. With tied
// embeddings its weight is the (target) embedding table itself.
#pragma once

#include <string>
#include <vector>

#include "core/params.h"

namespace nmt {

class OutputLayer {
 public:
  // weight: [V, dim] — pass the embedding table to tie; null Var to make an own one.
  OutputLayer(ParamStore& params, const std::string& prefix, int64_t vocab, int64_t dim, Var tied_weight,
              bool bias = true);
  Var logits(const Var& hidden) const;  // [..., dim] -> [..., V]
  // Label-smoothed cross-entropy of each row of hidden [M, dim] against targets (pad 0
  // ignored), fused with the projection: [M].
  Var losses(const Var& hidden, const std::vector<int32_t>& targets, float label_smoothing) const;

 private:
  Var weight_, bias_;
};

}  // namespace nmt
