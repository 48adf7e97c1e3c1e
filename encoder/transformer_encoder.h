// The Transformer encoder (Vaswani et al. 2017; torch.nn.TransformerEncoder as the
// PyTorch peer builds it): scaled embeddings plus positions, then a stack of layers
//   pre-norm:  x = x + Dropout(MHA(LN1(x)));  x = x + Dropout(FFN(LN2(x)))
//              and a final LayerNorm on the output
//   post-norm: x = LN1(x + Dropout(MHA(x)));  x = LN2(x + Dropout(FFN(x)))  (no final norm)
// Source padding is masked out of every attention, so a sentence's states do not
// depend on the batch; the returned states are zero at padding (the Encoder contract).
// There are no final RNN states: an RNN decoder starts from the mean of the states.
#pragma once

#include <string>
#include <vector>

#include "core/params.h"
#include "encoder/encoder.h"
#include "layers/multi_head_attention.h"
#include "layers/transformer_blocks.h"

namespace nmt {

class TransformerEncoderLayer {
 public:
  TransformerEncoderLayer(const ParamMaker& param, const std::string& prefix, const TransformerConfig& config);
  // x [N, S, d], mask [N, S] (1 = real token) -> [N, S, d]
  Var operator()(const Var& x, const Tensor& mask, bool training, Rng& rng) const;

 private:
  TransformerConfig config_;
  MultiHeadAttention attention_;
  FeedForward ffn_;
  LayerNormParams norm1_, norm2_;
};

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
  std::vector<TransformerEncoderLayer> layers_;
  LayerNormParams final_norm_;  // pre-norm only
};

}  // namespace nmt
