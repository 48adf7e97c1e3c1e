#include "layers/output_layer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/linear.h"
#include "ops/linear_cross_entropy.h"

namespace nmt {

OutputLayer::OutputLayer(ParamStore& params, const std::string& prefix, int64_t vocab, int64_t dim, Var tied_weight,
                         bool bias) {
  weight_ = tied_weight ? tied_weight
                        : params.add(prefix + ".weight", {vocab, dim},
                                     Init{Init::Uniform, 1.0f / std::sqrt(static_cast<float>(dim))});
  if (bias) bias_ = params.add(prefix + ".bias", {vocab}, Init{Init::Zeros, 0});
}

Var OutputLayer::logits(const Var& hidden) const { return linear(hidden, weight_, bias_); }

OutputSlice OutputLayer::slice(const std::vector<int32_t>& ids) const {
  const Tensor& w = weight_->value;
  const int64_t V = w.dim(0), dim = w.dim(1), n = static_cast<int64_t>(ids.size());
  const Int8Weights* q = int8_weights_in_scope(w);
  OutputSlice s;
  s.ids = ids;
  if (q) {
    s.int8.out = n;
    s.int8.in = dim;
    s.int8.levels = q->levels;
    s.int8.q.resize(n * dim);
    s.int8.scales.resize(n);
  } else {
    s.weight = Tensor({n, dim});
  }
  if (bias_) s.bias = Tensor({n});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= V) throw Error(cat("OutputLayer::slice: id ", id, " not in [0, ", V, ")"));
    if (q) {
      std::copy_n(q->q.data() + id * dim, dim, s.int8.q.data() + i * dim);
      s.int8.scales[i] = q->scales[id];
    } else {
      std::copy_n(w.data() + id * dim, dim, s.weight.data() + i * dim);
    }
    if (bias_) s.bias[i] = bias_->value[id];
  }
  return s;
}

Var OutputLayer::logits(const Var& hidden, const OutputSlice* slice) const {
  if (!slice) return logits(hidden);
  const Tensor* b = slice->bias.empty() ? nullptr : &slice->bias;
  Shape shape = hidden->value.shape();
  shape.back() = slice->size();
  Tensor y(shape);
  if (slice->weight.empty())
    linear_int8_forward(hidden->value, slice->int8, b, y);
  else
    linear_forward(hidden->value, slice->weight, b, y);
  return leaf(y);
}

Var OutputLayer::losses(const Var& hidden, const std::vector<int32_t>& targets, float label_smoothing,
                        float twin_kl) const {
  return linear_cross_entropy(hidden, weight_, bias_, targets, label_smoothing, 0, 0, twin_kl);
}

}  // namespace nmt
