// The RNN encoder: embeddings, then a stack of RNN layers (tanh / LSTM / GRU, uni- or
// bidirectional), each one oneDNN sequence primitive over the whole source.
//
// Padding: rnn_layer groups sentences by length (ops/rnn.h), so a sentence's
// states do not depend on the batch around it, and states at padding are zero.
#pragma once

#include <string>
#include <vector>

#include "core/params.h"
#include "encoder/encoder.h"
#include "ops/rnn.h"

namespace nmt {

struct RnnEncoderConfig {
  CellType cell = CellType::LSTM;
  int layers = 2;
  bool bidirectional = false;
  int64_t dim_emb = 256;
  int64_t dim_rnn = 512;  // per direction
  float dropout = 0.2f;   // on the embeddings and between layers
};

class RnnEncoder : public Encoder {
 public:
  // `embeddings` [V, dim_emb] may be shared with the decoder.
  RnnEncoder(ParamStore& params, const std::string& prefix, const RnnEncoderConfig& config, Var embeddings);
  EncoderOutput encode(const SourceBatch& src, bool training, Rng& rng) override;
  int64_t output_dim() const override;
  const RnnEncoderConfig& config() const { return config_; }

 private:
  RnnEncoderConfig config_;
  Var embeddings_;
  struct Layer {
    RnnLayerSpec spec;
    Var w_layer, w_iter, bias;
  };
  std::vector<Layer> layers_;
};

}  // namespace nmt
