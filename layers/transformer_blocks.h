// Building blocks shared by the Transformer encoder and decoder (Vaswani et al. 2017, in
// torch.nn's formulation, which the PyTorch peer uses): the configuration, layer norm
// parameters, the position-wise feed-forward net, the residual sub-layer in pre-norm or
// post-norm placement, and the scaled token embeddings plus positions.
//
// Modules declare their parameters through a ParamMaker: ParamStore::add in a model,
// plain leaves in gradient tests (so a whole layer can be checked through its Var ops).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/params.h"
#include "core/random.h"

namespace nmt {

using ParamMaker = std::function<Var(const std::string& name, const Shape& shape, Init init)>;
ParamMaker param_maker(ParamStore& store);

enum class NormPlacement { Pre, Post };
enum class PositionKind { Sinusoidal, Learned };
// Parse the transformer-norm / transformer-positions option values; OptionError otherwise.
NormPlacement parse_norm_placement(const std::string& name);
PositionKind parse_position_kind(const std::string& name);

// Sizes and regularisation of one Transformer stack (encoder or decoder).
struct TransformerConfig {
  int layers = 3;
  int64_t dim = 256;  // d, also the embedding width
  int heads = 4;
  int64_t dim_ffn = 1024;
  NormPlacement norm = NormPlacement::Pre;
  float dropout = 0.1f;            // embeddings, sub-layer outputs, FFN inner activations
  float dropout_attention = 0.0f;  // attention weights
  PositionKind positions = PositionKind::Sinusoidal;
  int max_positions = 1024;  // rows of the learned position table
};

// y = LayerNorm(x) over the last axis with gamma = 1, beta = 0 at init (eps 1e-5, as torch).
struct LayerNormParams {
  LayerNormParams() = default;
  LayerNormParams(const ParamMaker& param, const std::string& prefix, int64_t dim);
  Var operator()(const Var& x) const;
  Var gamma, beta;
};

// W2 dropout(relu(W1 x + b1)) + b2, x [..., d] (torch's TransformerEncoderLayer._ff_block
// without its outer dropout, which the residual applies). torch.nn.Linear's init.
class FeedForward {
 public:
  FeedForward() = default;
  FeedForward(const ParamMaker& param, const std::string& prefix, int64_t dim, int64_t dim_ffn);
  Var operator()(const Var& x, float dropout, bool training, Rng& rng) const;

 private:
  Var w1_, b1_, w2_, b2_;
};

// A residual sub-layer f:
//   pre-norm:  x + dropout(f(LN(x)))
//   post-norm: LN(x + dropout(f(x)))
Var residual(NormPlacement placement, const LayerNormParams& norm, const Var& x,
             const std::function<Var(const Var&)>& f, float dropout, bool training, Rng& rng);

// dropout(sqrt(d) * E[ids] + P[first .. first + T)) for ids [N, T] -> [N, T, d]. E is the
// (possibly shared) embedding table [V, d]; P is the sinusoidal table or a learned
// parameter [max_positions, d] (init Normal(0, d^-1/2), as fairseq's learned positions).
class TransformerEmbedding {
 public:
  TransformerEmbedding() = default;
  TransformerEmbedding(const ParamMaker& param, const std::string& prefix, Var table, const TransformerConfig& config);
  // Throws InputError when learned positions run past max_positions.
  Var operator()(const std::vector<int32_t>& ids, int64_t N, int64_t T, int64_t first, bool training, Rng& rng) const;
  // The positions P[first .. first + T) as a Var [T, d].
  Var positions(int64_t first, int64_t T) const;

 private:
  Var table_, learned_;
  int64_t dim_ = 0;
  float dropout_ = 0.f;
  PositionKind kind_ = PositionKind::Sinusoidal;
  int max_positions_ = 0;
};

}  // namespace nmt
