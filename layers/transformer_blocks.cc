#include "layers/transformer_blocks.h"

#include <cmath>

#include "core/error.h"
#include "ops/add.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/linear_relu_dropout.h"
#include "ops/positions.h"
#include "ops/shape_ops.h"

namespace nmt {
namespace {

constexpr float kLayerNormEps = 1e-5f;  // torch.nn.LayerNorm's default

// torch.nn.Linear's default init: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Init linear_init(int64_t fan_in) { return Init::uniform(1.0f / std::sqrt(static_cast<float>(fan_in))); }

}  // namespace

ParamMaker param_maker(ParamStore& store) {
  return [&store](const std::string& name, const Shape& shape, Init init) { return store.add(name, shape, init); };
}

NormPlacement parse_norm_placement(const std::string& name) {
  if (name == "pre") return NormPlacement::Pre;
  if (name == "post") return NormPlacement::Post;
  throw OptionError(cat("transformer-norm must be pre or post, got '", name, "'"));
}

PositionKind parse_position_kind(const std::string& name) {
  if (name == "sinusoidal") return PositionKind::Sinusoidal;
  if (name == "learned") return PositionKind::Learned;
  throw OptionError(cat("transformer-positions must be sinusoidal or learned, got '", name, "'"));
}

LayerNormParams::LayerNormParams(const ParamMaker& param, const std::string& prefix, int64_t dim)
    : gamma(param(prefix + ".gamma", {dim}, Init::ones())), beta(param(prefix + ".beta", {dim}, Init::zeros())) {}

Var LayerNormParams::operator()(const Var& x) const { return layer_norm(x, gamma, beta, kLayerNormEps); }

FeedForward::FeedForward(const ParamMaker& param, const std::string& prefix, int64_t dim, int64_t dim_ffn)
    : w1_(param(prefix + ".w1", {dim_ffn, dim}, linear_init(dim))),
      b1_(param(prefix + ".b1", {dim_ffn}, linear_init(dim))),
      w2_(param(prefix + ".w2", {dim, dim_ffn}, linear_init(dim_ffn))),
      b2_(param(prefix + ".b2", {dim}, linear_init(dim_ffn))) {}

Var FeedForward::operator()(const Var& x, float dropout_p, bool training, Rng& rng) const {
  Var h = linear_relu_dropout(x, w1_, b1_, dropout_p, training, rng);  // keeps one [rows, ffn] tensor
  return linear(h, w2_, b2_);
}

Var residual(NormPlacement placement, const LayerNormParams& norm, const Var& x,
             const std::function<Var(const Var&)>& f, float dropout_p, bool training, Rng& rng) {
  if (placement == NormPlacement::Pre) return add(x, dropout(f(norm(x)), dropout_p, training, rng));
  return norm(add(x, dropout(f(x), dropout_p, training, rng)));
}

TransformerEmbedding::TransformerEmbedding(const ParamMaker& param, const std::string& prefix, Var table,
                                           const TransformerConfig& config)
    : table_(std::move(table)),
      dim_(config.dim),
      dropout_(config.dropout),
      kind_(config.positions),
      max_positions_(config.max_positions) {
  if (kind_ == PositionKind::Learned)
    learned_ = param(prefix + ".positions", {config.max_positions, config.dim},
                     Init::normal(1.0f / std::sqrt(static_cast<float>(config.dim))));
}

Var TransformerEmbedding::positions(int64_t first, int64_t T) const {
  if (kind_ == PositionKind::Sinusoidal) return leaf(sinusoidal_positions(T, dim_, first));
  if (first + T > max_positions_)
    throw InputError(
        cat("position ", first + T - 1, " is beyond max-positions ", max_positions_, " of the learned position table"));
  return slice(learned_, 0, first, first + T);
}

Var TransformerEmbedding::operator()(const std::vector<int32_t>& ids, int64_t N, int64_t T, int64_t first,
                                     bool training, Rng& rng) const {
  Var x = scale(embedding(table_, ids, {N, T}), std::sqrt(static_cast<float>(dim_)));
  x = add_broadcast(x, positions(first, T));
  return dropout(x, dropout_, training, rng);
}

}  // namespace nmt
