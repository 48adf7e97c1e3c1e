#include "decoder/output_layer.h"

#include <cmath>

#include "core/ops/linear.h"
#include "core/ops/linear_cross_entropy.h"

namespace nmt {

OutputLayer::OutputLayer(ParamStore& params, const std::string& prefix, int64_t vocab, int64_t dim,
                         Var tied_weight, bool bias) {
  weight_ = tied_weight ? tied_weight
                        : params.add(prefix + ".weight", {vocab, dim},
                                     Init{Init::Uniform, 1.0f / std::sqrt(static_cast<float>(dim))});
  if (bias) bias_ = params.add(prefix + ".bias", {vocab}, Init{Init::Zeros, 0});
}

Var OutputLayer::logits(const Var& hidden) const { return linear(hidden, weight_, bias_); }

Var OutputLayer::losses(const Var& hidden, const std::vector<int32_t>& targets, float label_smoothing) const {
  return linear_cross_entropy(hidden, weight_, bias_, targets, label_smoothing, 0);
}

}  // namespace nmt
