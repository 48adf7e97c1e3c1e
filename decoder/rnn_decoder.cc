#include "decoder/rnn_decoder.h"

#include <cmath>

#include "core/error.h"
#include "decoder/sentence_rows.h"
#include "ops/dropout.h"
#include "ops/eltwise.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/shape_ops.h"

namespace nmt {
namespace {

Init uniform(int64_t fan_in) { return Init{Init::Uniform, 1.0f / std::sqrt(static_cast<float>(fan_in))}; }

// [D, N, H] final states of a layer -> [1, N, D*H] (directions side by side).
Var directions_side_by_side(const Var& s) {
  const int64_t D = s->value.dim(0), N = s->value.dim(1), H = s->value.dim(2);
  if (D == 1) return s;
  return reshape(transpose(s, {1, 0, 2}), {1, N, D * H});
}

// The mean of the encoder states over each sentence's real positions: [1, N, C].
Var mean_state(const EncoderOutput& enc) {
  const int64_t N = enc.states->value.dim(0), S = enc.states->value.dim(1), C = enc.states->value.dim(2);
  Tensor w({N, 1, S});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) w[n * S + s] = enc.mask[n * S + s] / static_cast<float>(enc.lengths[n]);
  return reshape(matmul(leaf(w), enc.states), {1, N, C});
}

class RnnDecoderState : public DecoderState {
 public:
  std::vector<Var> h, c;  // per layer, [1, rows, H]
  // Attention models: the encoder output and keys per sentence (source, source_keys), and
  // those of rows_of's groups (enc, keys), which the rows query in groups: a sentence's beam
  // hypotheses read its encoder states once, together.
  EncoderOutput source, enc;
  Var source_keys, keys;
  SentenceRows rows_of{0};
  Tensor attention;  // [rows, S] of the last step

  void select(const std::vector<int32_t>& rows) override {
    for (Var& v : h) v = index_select(v, 1, rows);
    for (Var& v : c)
      if (v) v = index_select(v, 1, rows);
    if (!source.states || !rows_of.select(rows)) return;
    enc.states = rows_of.of_groups(source.states);
    enc.mask = rows_of.of_groups(source.mask);
    enc.lengths = rows_of.of_groups(source.lengths);
    keys = rows_of.of_groups(source_keys);
  }
  Tensor last_attention() const override { return attention; }
};

}  // namespace

RnnDecoder::RnnDecoder(ParamStore& params, const std::string& prefix, const RnnDecoderConfig& config,
                       const EncoderShape& encoder, Var embeddings, Var output_weight)
    : config_(config),
      embeddings_(std::move(embeddings)),
      output_(params, prefix + ".output", config.vocab, config.dim_emb, std::move(output_weight)) {
  if (config.layers < 1) throw Error(cat("decoder depth must be >= 1, got ", config.layers));
  direct_init_ = !config.attention && encoder.layers == config.layers && encoder.state_width == config.dim_rnn;
  int64_t input = config.dim_emb;
  for (int l = 0; l < config.layers; ++l) {
    Layer layer;
    layer.spec = RnnLayerSpec{config.cell, false, input, config.dim_rnn};
    const std::string p = cat(prefix, ".l", l, ".");
    layer.w_layer = params.add(p + "w_layer", rnn_weights_layer_shape(layer.spec), uniform(config.dim_rnn));
    layer.w_iter = params.add(p + "w_iter", rnn_weights_iter_shape(layer.spec), uniform(config.dim_rnn));
    layer.bias = params.add(p + "bias", rnn_bias_shape(layer.spec), uniform(config.dim_rnn));
    if (!direct_init_) {
      layer.bridge_w = params.add(p + "bridge_w", {config.dim_rnn, encoder.dim}, uniform(encoder.dim));
      layer.bridge_b = params.add(p + "bridge_b", {config.dim_rnn}, Init{Init::Zeros, 0});
    }
    layers_.push_back(layer);
    input = config.dim_rnn;
  }
  int64_t pre_in = config.dim_rnn;
  if (config.attention) {
    attention_ = std::make_unique<Attention>(params, prefix + ".attention", config.attention_kind, config.dim_rnn,
                                             encoder.dim, config.dim_att);
    pre_in += encoder.dim;
  }
  out_w_ = params.add(prefix + ".pre_output.w", {config.dim_emb, pre_in}, uniform(pre_in));
  out_b_ = params.add(prefix + ".pre_output.b", {config.dim_emb}, Init{Init::Zeros, 0});
}

void RnnDecoder::initial_states(const EncoderOutput& enc, std::vector<Var>& h, std::vector<Var>& c) const {
  h.clear();
  c.clear();
  if (direct_init_) {
    for (size_t l = 0; l < layers_.size(); ++l) {
      h.push_back(directions_side_by_side(enc.final_h[l]));
      c.push_back(config_.cell == CellType::LSTM && enc.final_c[l] ? directions_side_by_side(enc.final_c[l]) : Var());
    }
    return;
  }
  Var mean = mean_state(enc);
  for (const Layer& layer : layers_) {
    h.push_back(tanh(linear(mean, layer.bridge_w, layer.bridge_b)));
    c.push_back(Var());
  }
}

Var RnnDecoder::pre_output(const Var& rnn_out, const Var& keys, const EncoderOutput& enc, bool training, Rng& rng,
                           Var* weights) const {
  if (!attention_) return linear(dropout(rnn_out, config_.dropout, training, rng), out_w_, out_b_);
  return combine(rnn_out, attention_->context(rnn_out, keys, enc.states, enc.mask, weights));
}

Var RnnDecoder::combine(const Var& rnn_out, const Var& context) const {
  return tanh(linear(concat({rnn_out, context}, 2), out_w_, out_b_));
}

Var RnnDecoder::hidden(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) {
  std::vector<Var> h0, c0;
  initial_states(enc, h0, c0);
  Var y = embedding(embeddings_, trg.time_major_input(), {trg.length, trg.batch});  // [T, N, E]
  y = dropout(y, config_.dropout, training, rng);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    // Right padding needs no lengths here: outputs before a sentence's end never see
    // its padding, and the loss ignores the positions after it.
    y = rnn_layer(layer.spec, y, {}, layer.w_layer, layer.w_iter, layer.bias, h0[l], c0[l]).seq;
    if (l + 1 < layers_.size()) y = dropout(y, config_.dropout, training, rng);
  }
  Var rnn_out = transpose(y, {1, 0, 2});  // [N, T, H]
  Var keys = attention_ ? attention_->project_keys(enc.states) : Var();
  Var pre = pre_output(rnn_out, keys, enc, training, rng, nullptr);
  if (attention_) pre = dropout(pre, config_.dropout, training, rng);
  return pre;
}

Var RnnDecoder::forward(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) {
  Var logits = output_.logits(hidden(enc, trg, training, rng));  // [N, T, V]
  return reshape(logits, {trg.batch * trg.length, config_.vocab});
}

Var RnnDecoder::token_losses(const EncoderOutput& enc, const TargetBatch& trg, float label_smoothing, bool training,
                             Rng& rng) {
  Var h = hidden(enc, trg, training, rng);
  return output_.losses(reshape(h, {trg.batch * trg.length, config_.dim_emb}), trg.output, label_smoothing,
                        trg.twin_kl);
}

std::unique_ptr<DecoderState> RnnDecoder::start(const EncoderOutput& enc) {
  auto st = std::make_unique<RnnDecoderState>();
  initial_states(enc, st->h, st->c);
  if (attention_) {  // else the decoder never reads the encoder again
    st->source = st->enc = enc;
    st->source_keys = st->keys = attention_->project_keys(enc.states);
    st->rows_of = SentenceRows(enc.states->value.dim(0));
  }
  return st;
}

Var RnnDecoder::step(DecoderState& state, const std::vector<int32_t>& previous) {
  auto& st = static_cast<RnnDecoderState&>(state);
  const int64_t N = static_cast<int64_t>(previous.size());
  Var y = embedding(embeddings_, previous, {1, N});  // [1, N, E]
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    RnnOutput r = rnn_layer(layer.spec, y, {}, layer.w_layer, layer.w_iter, layer.bias, st.h[l], st.c[l]);
    st.h[l] = r.h_last;
    if (config_.cell == CellType::LSTM) st.c[l] = r.c_last;
    y = r.seq;
  }
  Var rnn_out = reshape(y, {N, 1, config_.dim_rnn});
  const OutputSlice* slice = st.output_slice.get();
  const int64_t V = slice ? slice->size() : config_.vocab;
  if (!attention_) {
    Rng unused(0);
    return reshape(output_.logits(pre_output(rnn_out, Var(), st.enc, false, unused, nullptr), slice), {N, V});
  }
  // The rows' queries grouped by sentence, [groups, slots, H], attend over their sentence.
  const QueryGroups& g = st.rows_of.groups();
  if (static_cast<int64_t>(g.group.size()) != N)
    throw Error(cat("RnnDecoder::step: ", N, " previous tokens for a state of ", g.group.size(), " rows"));
  Var weights;
  const Var ctx = attention_->context(leaf(g.to_groups(rnn_out->value)), st.keys, st.enc.states, st.enc.mask,
                                      &weights);  // [groups, slots, C]
  st.attention = g.to_rows(weights->value);
  return reshape(
      output_.logits(combine(rnn_out, leaf(g.to_rows(ctx->value).reshape({N, 1, ctx->value.dim(2)}))), slice), {N, V});
}

}  // namespace nmt
