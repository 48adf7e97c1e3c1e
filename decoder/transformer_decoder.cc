#include "decoder/transformer_decoder.h"

#include <algorithm>

#include "core/error.h"
#include "decoder/attention_step.h"
#include "decoder/sentence_rows.h"
#include "ops/shape_ops.h"

namespace nmt {
namespace {

// Cross-attention weights [R, H, 1, S] -> averaged over the heads, [R, S].
Tensor mean_over_heads(const Tensor& w) {
  const int64_t R = w.dim(0), H = w.dim(1), S = w.dim(3);
  Tensor out = Tensor::zeros({R, S});
  for (int64_t r = 0; r < R; ++r)
    for (int64_t h = 0; h < H; ++h) {
      const float* p = w.data() + (r * H + h) * S;
      for (int64_t s = 0; s < S; ++s) out[r * S + s] += p[s] / static_cast<float>(H);
    }
  return out;
}

class TransformerDecoderState : public DecoderState {
 public:
  int64_t steps = 0;                 // positions decoded so far
  std::vector<KeyValueCache> cache;  // per layer: self-attention keys/values of the steps so far
  std::vector<KeysValues> memory;    // per layer: cross-attention keys/values [groups, H, S, dh]
  Tensor src_mask;                   // [groups, S]
  Tensor attention;                  // [R, S] of the last step
  // memory and src_mask per sentence; the above hold those of rows_of's groups.
  std::vector<KeysValues> source_memory;
  Tensor source_mask;
  SentenceRows rows_of{0};

  void select(const std::vector<int32_t>& rows) override {
    for (KeyValueCache& kv : cache) kv.select(rows);
    attention = take_rows(attention, rows);
    if (!rows_of.select(rows)) return;
    for (size_t l = 0; l < memory.size(); ++l) {
      memory[l].k = rows_of.of_groups(source_memory[l].k);
      memory[l].v = rows_of.of_groups(source_memory[l].v);
    }
    src_mask = rows_of.of_groups(source_mask);
  }
  Tensor last_attention() const override { return attention; }
};

}  // namespace

TransformerDecoderLayer::TransformerDecoderLayer(const ParamMaker& param, const std::string& prefix,
                                                 const TransformerConfig& config)
    : config_(config),
      self_attention_(param, prefix + ".self_attention", MultiHeadAttention::Kind::Self, config.dim, config.heads,
                      config.dropout_attention),
      cross_attention_(param, prefix + ".cross_attention", MultiHeadAttention::Kind::Cross, config.dim, config.heads,
                       config.dropout_attention),
      ffn_(param, prefix + ".ffn", config.dim, config.dim_ffn),
      norm1_(param, prefix + ".norm1", config.dim),
      norm2_(param, prefix + ".norm2", config.dim),
      norm3_(param, prefix + ".norm3", config.dim) {}

KeysValues TransformerDecoderLayer::memory(const Var& enc_states) const {
  return cross_attention_.memory_keys_values(enc_states);
}

Var TransformerDecoderLayer::operator()(const Var& x, const KeysValues& memory, const Tensor& src_mask, bool training,
                                        Rng& rng, Var* attention) const {
  const TransformerConfig& c = config_;
  Var y = residual(
      c.norm, norm1_, x, [&](const Var& v) { return self_attention_.self_attention(v, Tensor(), true, training, rng); },
      c.dropout, training, rng);
  y = residual(
      c.norm, norm2_, y,
      [&](const Var& v) { return cross_attention_.cross_attention(v, memory, src_mask, training, rng, attention); },
      c.dropout, training, rng);
  return residual(
      c.norm, norm3_, y, [&](const Var& v) { return ffn_(v, c.dropout, training, rng); }, c.dropout, training, rng);
}

Var TransformerDecoderLayer::step(const Var& x, KeyValueCache& cache, const KeysValues& memory, const Tensor& src_mask,
                                  const QueryGroups& groups, Var* attention) const {
  const TransformerConfig& c = config_;
  Rng unused(0);
  Var y = residual(
      c.norm, norm1_, x, [&](const Var& v) { return self_attention_step(self_attention_, v, cache); }, c.dropout, false,
      unused);
  y = residual(
      c.norm, norm2_, y,
      [&](const Var& v) { return cross_attention_step(cross_attention_, v, memory, src_mask, groups, attention); },
      c.dropout, false, unused);
  return residual(
      c.norm, norm3_, y, [&](const Var& v) { return ffn_(v, c.dropout, false, unused); }, c.dropout, false, unused);
}

TransformerDecoder::TransformerDecoder(ParamStore& params, const std::string& prefix, const TransformerConfig& config,
                                       int64_t vocab, Var embeddings, Var output_weight)
    : config_(config),
      vocab_(vocab),
      output_(params, prefix + ".output", vocab, config.dim, std::move(output_weight), /*bias=*/false) {
  ParamMaker param = param_maker(params);
  embed_ = TransformerEmbedding(param, prefix, std::move(embeddings), config);
  for (int l = 0; l < config.layers; ++l) layers_.emplace_back(param, cat(prefix, ".l", l), config);
  if (config.norm == NormPlacement::Pre) final_norm_ = LayerNormParams(param, prefix + ".final_norm", config.dim);
}

Var TransformerDecoder::hidden(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) const {
  Var x = embed_(trg.input, trg.batch, trg.length, 0, training, rng);
  for (const TransformerDecoderLayer& layer : layers_) x = layer(x, layer.memory(enc.states), enc.mask, training, rng);
  if (config_.norm == NormPlacement::Pre) x = final_norm_(x);
  return x;
}

Var TransformerDecoder::forward(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) {
  return reshape(output_.logits(hidden(enc, trg, training, rng)), {trg.batch * trg.length, vocab_});
}

Var TransformerDecoder::token_losses(const EncoderOutput& enc, const TargetBatch& trg, float label_smoothing,
                                     bool training, Rng& rng) {
  Var h = reshape(hidden(enc, trg, training, rng), {trg.batch * trg.length, config_.dim});
  return output_.losses(h, trg.output, label_smoothing, trg.twin_kl);
}

std::unique_ptr<DecoderState> TransformerDecoder::start(const EncoderOutput& enc) {
  auto st = std::make_unique<TransformerDecoderState>();
  st->src_mask = enc.mask;
  st->cache.resize(layers_.size());
  for (const TransformerDecoderLayer& layer : layers_) st->memory.push_back(layer.memory(enc.states));
  st->source_memory = st->memory;
  st->source_mask = st->src_mask;
  st->rows_of = SentenceRows(enc.states->value.dim(0));
  return st;
}

Var TransformerDecoder::step(DecoderState& state, const std::vector<int32_t>& previous) {
  auto& st = static_cast<TransformerDecoderState&>(state);
  const int64_t R = static_cast<int64_t>(previous.size());
  const QueryGroups& groups = st.rows_of.groups();
  if (static_cast<int64_t>(groups.group.size()) != R)
    throw Error(cat("TransformerDecoder::step: ", R, " previous tokens for a state of ", groups.group.size(), " rows"));
  Rng unused(0);
  Var x = embed_(previous, R, 1, st.steps, false, unused);
  Var weights;
  for (size_t l = 0; l < layers_.size(); ++l)
    x = layers_[l].step(x, st.cache[l], st.memory[l], st.src_mask, groups,
                        l + 1 == layers_.size() ? &weights : nullptr);
  if (config_.norm == NormPlacement::Pre) x = final_norm_(x);
  st.attention = mean_over_heads(weights->value);
  ++st.steps;
  const OutputSlice* slice = st.output_slice.get();
  return reshape(output_.logits(x, slice), {R, slice ? slice->size() : vocab_});
}

}  // namespace nmt
