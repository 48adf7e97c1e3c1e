// One layer of self-attention and feed-forward, torch.nn.TransformerEncoderLayer's:
//   pre-norm:  x = x + Dropout(MHA(LN1(x)));  x = x + Dropout(FFN(LN2(x)))
//   post-norm: x = LN1(x + Dropout(MHA(x)));  x = LN2(x + Dropout(FFN(x)))
// The encoder's layers (padding masked out) and the language model's (causal) are this one
// layer; its parameters are prefix.self_attention.*, prefix.ffn.*, prefix.norm1.*, prefix.norm2.*.
#pragma once

#include <functional>
#include <string>

#include "layers/multi_head_attention.h"
#include "layers/transformer_blocks.h"

namespace nmt {

class TransformerLayer {
 public:
  TransformerLayer(const ParamMaker& param, const std::string& prefix, const TransformerConfig& config);
  // x [N, T, d] -> [N, T, d]. mask [N, T] (1 = real token) or empty; causal: position t
  // attends over positions 0 .. t only.
  Var operator()(const Var& x, const Tensor& mask, bool causal, bool training, Rng& rng) const;
  // The layer with `attend(attention, v)` in place of its self-attention and no dropout:
  // incremental decoding, where the attention reads cached keys and values.
  using Attend = std::function<Var(const MultiHeadAttention& attention, const Var& v)>;
  Var with_attention(const Var& x, const Attend& attend) const;

 private:
  TransformerConfig config_;
  MultiHeadAttention attention_;
  FeedForward ffn_;
  LayerNormParams norm1_, norm2_;
};

}  // namespace nmt
