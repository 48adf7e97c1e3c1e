// The Transformer decoder (Vaswani et al. 2017; torch.nn.TransformerDecoder as the
// PyTorch peer builds it): scaled target embeddings plus positions, a stack of layers
//   pre-norm:  x = x + Dropout(SelfMHA_causal(LN1(x)))
//              x = x + Dropout(CrossMHA(LN2(x), enc))       (source padding masked)
//              x = x + Dropout(FFN(LN3(x)))
//              and a final LayerNorm
//   post-norm: x = LN1(x + Dropout(SelfMHA_causal(x))), ... (no final norm)
// and the output projection (tied to the embeddings by default, no bias).
//
// Training runs every position at once with a causal mask. Target padding needs no key
// mask: padding is at the right, so the causal mask already hides it from every real
// position, and the loss ignores the padded ones (id 0). Decoding is incremental: the
// state keeps per layer the self-attention keys/values of all previous steps (step t
// costs O(t)) and the cross-attention keys/values of the source, computed once in
// start(); a step's positions are the step index, which the state counts.
//
// The encoder states must be dim wide (an RNN encoder needs dim-rnn == dim-emb: ModelConfig::validate).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/params.h"
#include "decoder/attention_step.h"
#include "decoder/decoder.h"
#include "layers/multi_head_attention.h"
#include "layers/output_layer.h"
#include "layers/transformer_blocks.h"

namespace nmt {

class TransformerDecoderLayer {
 public:
  TransformerDecoderLayer(const ParamMaker& param, const std::string& prefix, const TransformerConfig& config);

  // Cross-attention keys/values of the encoder states [N, S, d] (once per batch).
  KeysValues memory(const Var& enc_states) const;
  // x [N, T, d] -> [N, T, d], all positions at once (causal). *attention (if asked)
  // gets the cross-attention weights [N, H, T, S].
  Var operator()(const Var& x, const KeysValues& memory, const Tensor& src_mask, bool training, Rng& rng,
                 Var* attention = nullptr) const;
  // One position x [R, 1, d] after the cached ones; appends to `cache`. The rows attend over
  // the memory of their group (memory [groups, ...], src_mask [groups, S]).
  Var step(const Var& x, KeyValueCache& cache, const KeysValues& memory, const Tensor& src_mask,
           const QueryGroups& groups, Var* attention = nullptr) const;

 private:
  TransformerConfig config_;
  MultiHeadAttention self_attention_, cross_attention_;
  FeedForward ffn_;
  LayerNormParams norm1_, norm2_, norm3_;
};

class TransformerDecoder : public Decoder {
 public:
  // The encoder states it attends over must be config.dim wide (ModelConfig::validate).
  // output_weight: [vocab, dim] to tie (the target embeddings), or null for an own one.
  TransformerDecoder(ParamStore& params, const std::string& prefix, const TransformerConfig& config, int64_t vocab,
                     Var embeddings, Var output_weight);

  Var forward(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) override;
  // Fused with the output layer (ops/linear_cross_entropy.h): one [N * T, V] buffer.
  Var token_losses(const EncoderOutput& enc, const TargetBatch& trg, float label_smoothing, bool training,
                   Rng& rng) override;
  std::unique_ptr<DecoderState> start(const EncoderOutput& enc) override;
  Var step(DecoderState& state, const std::vector<int32_t>& previous) override;
  std::shared_ptr<const OutputSlice> output_slice(const std::vector<int32_t>& ids) const override {
    return std::make_shared<const OutputSlice>(output_.slice(ids));
  }
  bool has_attention() const override { return true; }
  const TransformerConfig& config() const { return config_; }

 private:
  // Teacher-forced pass up to the output layer: [N, T, dim] (final norm applied).
  Var hidden(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) const;

  TransformerConfig config_;
  int64_t vocab_;
  TransformerEmbedding embed_;
  std::vector<TransformerDecoderLayer> layers_;
  LayerNormParams final_norm_;  // pre-norm only
  OutputLayer output_;
};

}  // namespace nmt
