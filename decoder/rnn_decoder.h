// RNN decoders: the bottleneck seq2seq (Sutskever et al. 2014, Cho et al. 2014), which
// sees the source only through the encoder's final state, and the attention decoder,
// which attends over every encoder state after its RNN (Luong et al. 2015).
//
// Both run the decoder RNN over the whole target as one fused oneDNN sequence
// primitive in training, and one step at a time when translating.
//
//   bottleneck: logits = Out(Wp dropout(h_t) + bp)
//   attention:  logits = Out(dropout(tanh(Wo [h_t; ctx_t] + bo))),  ctx_t = Att(h_t, enc)
//
// Initial state: a bottleneck decoder whose layers match the encoder's (same depth,
// state width = encoder directions x size) starts from the encoder's final states,
// layer by layer; otherwise (and always with attention) each layer starts from
// h0 = tanh(Wb mean(enc) + bb), c0 = 0.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/params.h"
#include "decoder/decoder.h"
#include "layers/output_layer.h"
#include "layers/rnn_attention.h"
#include "ops/rnn.h"

namespace nmt {

struct RnnDecoderConfig {
  CellType cell = CellType::LSTM;
  int layers = 2;
  int64_t dim_emb = 256;
  int64_t dim_rnn = 512;
  float dropout = 0.2f;
  bool attention = false;
  AttentionKind attention_kind = AttentionKind::Mlp;
  int64_t dim_att = 512;
  int64_t vocab = 0;
};

// What the decoder needs to know of its encoder.
struct EncoderShape {
  int64_t dim = 0;          // width of the encoder states C
  int layers = 0;           // RNN encoder depth (0: no final states, e.g. a Transformer)
  int64_t state_width = 0;  // width of a layer's final state, directions x size
};

class RnnDecoder : public Decoder {
 public:
  RnnDecoder(ParamStore& params, const std::string& prefix, const RnnDecoderConfig& config, const EncoderShape& encoder,
             Var embeddings, Var output_weight);

  Var forward(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) override;
  Var token_losses(const EncoderOutput& enc, const TargetBatch& trg, float label_smoothing, bool training,
                   Rng& rng) override;
  std::unique_ptr<DecoderState> start(const EncoderOutput& enc) override;
  Var step(DecoderState& state, const std::vector<int32_t>& previous) override;
  std::shared_ptr<const OutputSlice> output_slice(const std::vector<int32_t>& ids) const override {
    return std::make_shared<const OutputSlice>(output_.slice(ids));
  }
  bool has_attention() const override { return config_.attention; }

 private:
  struct Layer {
    RnnLayerSpec spec;
    Var w_layer, w_iter, bias;
    Var bridge_w, bridge_b;  // only when starting from the encoder's mean
  };
  // Initial h and c ([1, N, H], c null when not LSTM or when zero) of every layer.
  void initial_states(const EncoderOutput& enc, std::vector<Var>& h, std::vector<Var>& c) const;
  // Teacher-forced pass up to the output layer: [N, T, dim_emb] (dropout applied).
  Var hidden(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng);
  // Decoder RNN outputs [N, T, H] -> pre-output [N, T, dim_emb].
  Var pre_output(const Var& rnn_out, const Var& keys, const EncoderOutput& enc, bool training, Rng& rng,
                 Var* weights) const;
  // The attention model's pre-output from the RNN output and its attention context.
  Var combine(const Var& rnn_out, const Var& context) const;

  RnnDecoderConfig config_;
  bool direct_init_ = false;
  Var embeddings_;
  std::vector<Layer> layers_;
  std::unique_ptr<Attention> attention_;
  Var out_w_, out_b_;  // [dim_emb, H (+ C)]
  OutputLayer output_;
};

}  // namespace nmt
