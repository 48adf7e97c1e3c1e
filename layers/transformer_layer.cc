#include "layers/transformer_layer.h"

namespace nmt {

TransformerLayer::TransformerLayer(const ParamMaker& param, const std::string& prefix, const TransformerConfig& config)
    : config_(config),
      attention_(param, prefix + ".self_attention", MultiHeadAttention::Kind::Self, config.dim, config.heads,
                 config.dropout_attention),
      ffn_(param, prefix + ".ffn", config.dim, config.dim_ffn),
      norm1_(param, prefix + ".norm1", config.dim),
      norm2_(param, prefix + ".norm2", config.dim) {}

Var TransformerLayer::operator()(const Var& x, const Tensor& mask, bool causal, bool training, Rng& rng) const {
  const TransformerConfig& c = config_;
  Var y = residual(
      c.norm, norm1_, x, [&](const Var& v) { return attention_.self_attention(v, mask, causal, training, rng); },
      c.dropout, training, rng);
  return residual(
      c.norm, norm2_, y, [&](const Var& v) { return ffn_(v, c.dropout, training, rng); }, c.dropout, training, rng);
}

Var TransformerLayer::with_attention(const Var& x, const Attend& attend) const {
  const TransformerConfig& c = config_;
  Rng unused(0);  // no dropout: training is false
  Var y = residual(
      c.norm, norm1_, x, [&](const Var& v) { return attend(attention_, v); }, c.dropout, false, unused);
  return residual(
      c.norm, norm2_, y, [&](const Var& v) { return ffn_(v, c.dropout, false, unused); }, c.dropout, false, unused);
}

}  // namespace nmt
