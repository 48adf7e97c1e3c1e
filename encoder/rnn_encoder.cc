#include "encoder/rnn_encoder.h"

#include <cmath>

#include "core/error.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/shape_ops.h"

namespace nmt {

RnnEncoder::RnnEncoder(ParamStore& params, const std::string& prefix, const RnnEncoderConfig& config, Var embeddings)
    : config_(config), embeddings_(std::move(embeddings)) {
  if (config.layers < 1) throw Error(cat("encoder depth must be >= 1, got ", config.layers));
  const Init init{Init::Uniform, 1.0f / std::sqrt(static_cast<float>(config.dim_rnn))};
  int64_t input = config.dim_emb;
  for (int l = 0; l < config.layers; ++l) {
    Layer layer;
    layer.spec = RnnLayerSpec{config.cell, config.bidirectional, input, config.dim_rnn};
    const std::string p = cat(prefix, ".l", l, ".");
    layer.w_layer = params.add(p + "w_layer", rnn_weights_layer_shape(layer.spec), init);
    layer.w_iter = params.add(p + "w_iter", rnn_weights_iter_shape(layer.spec), init);
    layer.bias = params.add(p + "bias", rnn_bias_shape(layer.spec), init);
    layers_.push_back(layer);
    input = output_dim();
  }
}

int64_t RnnEncoder::output_dim() const { return config_.dim_rnn * (config_.bidirectional ? 2 : 1); }

EncoderOutput RnnEncoder::encode(const SourceBatch& src, bool training, Rng& rng) {
  EncoderOutput out;
  Var x = embedding(embeddings_, src.time_major_ids(), {src.length, src.batch});  // [S, N, E]
  x = dropout(x, config_.dropout, training, rng);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    RnnOutput r = rnn_layer(layer.spec, x, src.lengths, layer.w_layer, layer.w_iter, layer.bias, nullptr, nullptr);
    out.final_h.push_back(r.h_last);
    out.final_c.push_back(r.c_last);
    x = r.seq;
    if (l + 1 < layers_.size()) x = dropout(x, config_.dropout, training, rng);
  }
  out.states = transpose(x, {1, 0, 2});  // [N, S, C]
  out.mask = src.mask();
  out.lengths = src.lengths;
  return out;
}

}  // namespace nmt
