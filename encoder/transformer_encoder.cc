#include "encoder/transformer_encoder.h"

#include <algorithm>

#include "core/error.h"
#include "ops/elementwise.h"

namespace nmt {

TransformerEncoder::TransformerEncoder(ParamStore& params, const std::string& prefix, const TransformerConfig& config,
                                       Var embeddings)
    : config_(config) {
  ParamMaker param = param_maker(params);
  embed_ = TransformerEmbedding(param, prefix, std::move(embeddings), config);
  for (int l = 0; l < config.layers; ++l) layers_.emplace_back(param, cat(prefix, ".l", l), config);
  if (config.norm == NormPlacement::Pre) final_norm_ = LayerNormParams(param, prefix + ".final_norm", config.dim);
}

EncoderOutput TransformerEncoder::encode(const SourceBatch& src, bool training, Rng& rng) {
  EncoderOutput out;
  out.mask = src.mask();
  out.lengths = src.lengths;
  Var x = embed_(src.ids, src.batch, src.length, 0, training, rng);
  for (const TransformerLayer& layer : layers_) x = layer(x, out.mask, /*causal=*/false, training, rng);
  if (config_.norm == NormPlacement::Pre) x = final_norm_(x);
  // Zero at padding, as every encoder's states are (nothing reads them there anyway).
  bool padded = false;
  for (int len : src.lengths) padded = padded || len < src.length;
  if (padded) {
    const int64_t N = src.batch, S = src.length, d = config_.dim;
    Tensor m({N, S, d});
    for (int64_t i = 0; i < N * S; ++i) std::fill(m.data() + i * d, m.data() + (i + 1) * d, out.mask[i]);
    x = mul(x, leaf(m));
  }
  out.states = x;
  return out;
}

}  // namespace nmt
