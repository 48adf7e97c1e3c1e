// The Transformer encoder (Vaswani et al. 2017; torch.nn.TransformerEncoder as the
// PyTorch peer builds it): scaled embeddings plus positions, then a stack of
// layers/transformer_layer.h's layers, and with pre-norm a final LayerNorm on the output.
// Source padding is masked out of every attention, so a sentence's states do not
// depend on the batch; the returned states are zero at padding (the Encoder contract).
// There are no final RNN states: an RNN decoder starts from the mean of the states.
#pragma once

#include <string>
#include <vector>

#include "core/params.h"
#include "encoder/encoder.h"
#include "layers/transformer_blocks.h"
#include "layers/transformer_layer.h"

namespace nmt {

class TransformerEncoder : public Encoder {
 public:
  // `embeddings` [V, dim] may be shared with the decoder. Parameters are named prefix.*.
  TransformerEncoder(ParamStore& params, const std::string& prefix, const TransformerConfig& config, Var embeddings);
  EncoderOutput encode(const SourceBatch& src, bool training, Rng& rng) override;
  int64_t output_dim() const override { return config_.dim; }
  const TransformerConfig& config() const { return config_; }

 private:
  TransformerConfig config_;
  TransformerEmbedding embed_;
  std::vector<TransformerLayer> layers_;
  LayerNormParams final_norm_;  // pre-norm only
};

}  // namespace nmt
