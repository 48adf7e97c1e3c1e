// The Transformer language model (decoder-only, as Radford et al. 2018; torch.nn's
// TransformerEncoderLayer under a causal mask, as the PyTorch peer builds it): scaled
// embeddings plus positions, a stack of layers
//   pre-norm:  x = x + Dropout(SelfMHA_causal(LN1(x)));  x = x + Dropout(FFN(LN2(x)))
//              and a final LayerNorm
//   post-norm: x = LN1(x + Dropout(SelfMHA_causal(x)));  x = LN2(x + Dropout(FFN(x)))
// and the output projection (tied to the embeddings by default, no bias). Training and
// scoring run every position of a window at once; decoding is incremental, keeping every
// layer's keys and values of the positions read (decoder/attention_step.h). A window always
// starts at position 0: in stream mode each window is read alone, with nothing carried.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "decoder/attention_step.h"
#include "layers/multi_head_attention.h"
#include "layers/output_layer.h"
#include "layers/transformer_blocks.h"
#include "layers/transformer_layer.h"
#include "lm/language_model.h"

namespace nmt {

// The keys and values of the positions read, per layer, and their count.
class TransformerLmState : public LmState {
 public:
  TransformerLmState(int64_t rows, size_t layers) : rows_(rows), cache(layers) {}
  int64_t rows() const override { return rows_; }
  void select(const std::vector<int32_t>& rows) override;
  std::vector<Tensor*> carried() override { return {}; }

  int64_t rows_;
  int64_t steps = 0;
  std::vector<KeyValueCache> cache;
};

class TransformerLanguageModel : public LanguageModel {
 public:
  TransformerLanguageModel(const ModelConfig& config, uint64_t seed);

  bool carries_state() const override { return false; }
  Var token_losses(const TargetBatch& batch, LmState* state, float label_smoothing, bool training, Rng& rng) override;
  Var logits(const TargetBatch& batch, LmState* state) override;
  std::unique_ptr<LmState> start(int64_t rows) override;
  Var step(LmState& state, const std::vector<int32_t>& previous) override;
  // Fresh states only (nothing read): the transformer starts every window anew.
  std::unique_ptr<LmState> stack(const std::vector<const LmState*>& states) const override;
  Tensor state_gradient_norms(const std::vector<int32_t>& inputs, int64_t R, int64_t W,
                              const std::vector<int32_t>& targets, const LmState& start) override;

 private:
  // From the embedded input x [N, T, d] up to the output layer: [N * T, d].
  Var body(Var x, bool training, Rng& rng) const;

  TransformerConfig tc_;
  TransformerEmbedding embed_;
  std::vector<TransformerLayer> layers_;
  LayerNormParams final_norm_;  // pre-norm only
  std::unique_ptr<OutputLayer> output_;
};

}  // namespace nmt
