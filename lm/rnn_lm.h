// The RNN language model (Mikolov et al. 2010; with Zaremba et al. 2014's dropout on the
// non-recurrent connections):
//   x_t = dropout(E[y_{t-1}])
//   h^l_t = cell(h^{l-1}_t, h^l_{t-1}),   dropout after every layer  (cell: tanh, LSTM, GRU)
//   logits_t = Out(P h^L_t + p)            P, p only when dim-rnn != dim-emb and the output
//                                          layer is tied to the embeddings (Inan et al. 2017)
// The output layer has a bias, as the PyTorch peer's nn.Linear. Training and scoring run each
// layer over the whole window as one oneDNN sequence primitive; decoding runs one step at a
// time. The state (h, and c for an LSTM, of every layer) is what stream mode carries from
// one window to the next.
#pragma once

#include <memory>
#include <vector>

#include "layers/output_layer.h"
#include "lm/language_model.h"
#include "ops/rnn.h"

namespace nmt {

// h (and c) of every layer, [1, rows, dim-rnn] each; c empty unless the cell is an LSTM.
class RnnLmState : public LmState {
 public:
  std::vector<Tensor> h, c;
  int64_t rows() const override { return h.empty() ? 0 : h[0].dim(1); }
  void select(const std::vector<int32_t>& rows) override;
  std::vector<Tensor*> carried() override;
};

class RnnLanguageModel : public LanguageModel {
 public:
  RnnLanguageModel(const ModelConfig& config, uint64_t seed);

  bool carries_state() const override { return true; }
  Var token_losses(const TargetBatch& batch, LmState* state, float label_smoothing, bool training, Rng& rng) override;
  Var logits(const TargetBatch& batch, LmState* state) override;
  std::unique_ptr<LmState> start(int64_t rows) override;
  Var step(LmState& state, const std::vector<int32_t>& previous) override;
  std::unique_ptr<LmState> stack(const std::vector<const LmState*>& states) const override;
  Tensor state_gradient_norms(const std::vector<int32_t>& inputs, int64_t R, int64_t W,
                              const std::vector<int32_t>& targets, const LmState& start) override;

 private:
  struct Layer {
    RnnLayerSpec spec;
    Var w_layer, w_iter, bias;
  };
  // The rows' hidden states of the top layer at every position, [N * T, dim-out] batch-major.
  Var hidden(const TargetBatch& batch, RnnLmState* state, bool training, Rng& rng) const;
  // [.., dim-rnn] -> [.., dim-emb] through the projection (when there is one).
  Var project(const Var& h) const;
  // One step of every layer from the states in h, c (replaced by the new ones); x [1, R, dim-emb].
  // With `probes`, the new h of each layer is h + a zero leaf appended there (state_gradient_norms).
  Var step_layers(Var x, std::vector<Var>& h, std::vector<Var>& c, std::vector<Var>* probes) const;
  std::unique_ptr<RnnLmState> zero_state(int64_t rows) const;
  bool lstm() const { return layers_.front().spec.cell == CellType::LSTM; }

  std::vector<Layer> layers_;
  Var proj_w_, proj_b_;  // only when dim-rnn != dim-emb with tied embeddings
  int64_t dim_out_ = 0;  // width into the output layer
  std::unique_ptr<OutputLayer> output_;
};

}  // namespace nmt
