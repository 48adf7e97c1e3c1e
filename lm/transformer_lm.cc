#include "lm/transformer_lm.h"

#include <cmath>

#include "core/error.h"
#include "model/model.h"
#include "ops/add.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

namespace nmt {

void TransformerLmState::select(const std::vector<int32_t>& rows) {
  for (KeyValueCache& kv : cache) kv.select(rows);
  rows_ = static_cast<int64_t>(rows.size());
}

TransformerLanguageModel::TransformerLanguageModel(const ModelConfig& config, uint64_t seed)
    : LanguageModel(config), tc_(transformer_config(config_, config_.dec_depth)) {
  const Var emb = add_embeddings(Init::normal(1.0f / std::sqrt(static_cast<float>(config_.dim_emb))));
  const ParamMaker param = param_maker(params_);
  embed_ = TransformerEmbedding(param, "lm", emb, tc_);
  for (int l = 0; l < tc_.layers; ++l) layers_.emplace_back(param, cat("lm.l", l), tc_);
  if (tc_.norm == NormPlacement::Pre) final_norm_ = LayerNormParams(param, "lm.final_norm", tc_.dim);
  output_ = std::make_unique<OutputLayer>(params_, "lm.output", config_.trg_vocab_size, tc_.dim,
                                          config_.tied_embeddings ? emb : Var(), /*bias=*/false);
  finish(seed);
}

Var TransformerLanguageModel::body(Var x, bool training, Rng& rng) const {
  const int64_t N = x->value.dim(0), T = x->value.dim(1);
  for (const TransformerLayer& layer : layers_) x = layer(x, Tensor(), /*causal=*/true, training, rng);
  if (tc_.norm == NormPlacement::Pre) x = final_norm_(x);
  return reshape(x, {N * T, tc_.dim});
}

Var TransformerLanguageModel::token_losses(const TargetBatch& batch, LmState*, float label_smoothing, bool training,
                                           Rng& rng) {
  const Var x = embed_(batch.input, batch.batch, batch.length, 0, training, rng);
  return output_->losses(body(x, training, rng), batch.output, label_smoothing);
}

Var TransformerLanguageModel::logits(const TargetBatch& batch, LmState*) {
  NoGradScope no_grad;
  Rng unused(0);
  const Var x = embed_(batch.input, batch.batch, batch.length, 0, false, unused);
  return output_->logits(body(x, false, unused));
}

std::unique_ptr<LmState> TransformerLanguageModel::start(int64_t rows) {
  return std::make_unique<TransformerLmState>(rows, layers_.size());
}

Var TransformerLanguageModel::step(LmState& state, const std::vector<int32_t>& previous) {
  NoGradScope no_grad;
  auto& st = static_cast<TransformerLmState&>(state);
  const int64_t R = static_cast<int64_t>(previous.size());
  if (R != st.rows())
    throw Error(cat("TransformerLanguageModel::step: ", R, " previous tokens for a state of ", st.rows()));
  Rng unused(0);
  Var x = embed_(previous, R, 1, st.steps, false, unused);
  for (size_t l = 0; l < layers_.size(); ++l) {
    KeyValueCache& cache = st.cache[l];
    x = layers_[l].with_attention(
        x, [&](const MultiHeadAttention& attention, const Var& v) { return self_attention_step(attention, v, cache); });
  }
  if (tc_.norm == NormPlacement::Pre) x = final_norm_(x);
  ++st.steps;
  return output_->logits(reshape(x, {R, tc_.dim}));
}

std::unique_ptr<LmState> TransformerLanguageModel::stack(const std::vector<const LmState*>& states) const {
  int64_t R = 0;
  for (const LmState* s : states) {
    if (static_cast<const TransformerLmState&>(*s).steps != 0)
      throw Error("TransformerLanguageModel::stack: a transformer's windows start fresh");
    R += s->rows();
  }
  return std::make_unique<TransformerLmState>(R, layers_.size());
}

Tensor TransformerLanguageModel::state_gradient_norms(const std::vector<int32_t>& inputs, int64_t R, int64_t W,
                                                      const std::vector<int32_t>& targets, const LmState& start) {
  if (start.rows() != R || static_cast<int64_t>(inputs.size()) != R * W || static_cast<int64_t>(targets.size()) != R)
    throw Error(cat("state_gradient_norms: ", inputs.size(), " inputs, ", targets.size(), " targets and a state of ",
                    start.rows(), " rows for ", R, " rows of ", W));
  stack({&start});  // checks that it is fresh
  Rng unused(0);
  const int64_t d = tc_.dim;
  const Var probe = leaf(Tensor::zeros({R, W, d}), true);  // dJ/dprobe = dJ/dx
  const Var x = add(embed_(inputs, R, W, 0, false, unused), probe);
  const Var h = reshape(body(x, false, unused), {R, W, d});
  const Var last = reshape(slice(h, 1, W - 1, W), {R, d});
  Tape::current().backward(sum(output_->losses(last, targets, 0.0f)));
  Tensor norms = Tensor::zeros({R, W});
  if (!probe->grad.empty())
    for (int64_t i = 0; i < R * W; ++i) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += static_cast<double>(probe->grad[i * d + j]) * probe->grad[i * d + j];
      norms[i] = static_cast<float>(std::sqrt(s));
    }
  params_.zero_grads();
  return norms;
}

}  // namespace nmt
