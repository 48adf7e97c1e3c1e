#include "model/config.h"

#include <functional>
#include <sstream>

#include "core/error.h"

namespace nmt {
namespace {

// Visits every field with its key, so to_map and from_map cannot drift apart.
template <typename Config, typename Visitor>
void visit_fields(Config& c, Visitor&& v) {
  v("type", c.type);
  v("enc-type", c.enc_type);
  v("dec-type", c.dec_type);
  v("cell", c.cell);
  v("enc-depth", c.enc_depth);
  v("dec-depth", c.dec_depth);
  v("enc-bidirectional", c.enc_bidirectional);
  v("dim-emb", c.dim_emb);
  v("dim-rnn", c.dim_rnn);
  v("attention", c.attention);
  v("dim-att", c.dim_att);
  v("tied-embeddings", c.tied_embeddings);
  v("tied-embeddings-all", c.tied_embeddings_all);
  v("dropout", c.dropout);
  v("transformer-heads", c.transformer_heads);
  v("transformer-dim-ffn", c.transformer_dim_ffn);
  v("transformer-norm", c.transformer_norm);
  v("transformer-dropout", c.transformer_dropout);
  v("transformer-dropout-attention", c.transformer_dropout_attention);
  v("transformer-positions", c.transformer_positions);
  v("max-positions", c.max_positions);
  v("src-vocab-size", c.src_vocab_size);
  v("trg-vocab-size", c.trg_vocab_size);
}

template <typename T>
std::string to_text(const T& value) {
  std::ostringstream os;
  os << value;
  return os.str();
}
std::string to_text(const bool& value) { return value ? "true" : "false"; }
std::string to_text(const float& value) {
  std::ostringstream os;
  os.precision(9);
  os << value;
  return os.str();
}

void from_text(const std::string& key, const std::string& s, std::string& out) { out = s; }
void from_text(const std::string& key, const std::string& s, bool& out) {
  if (s == "true" || s == "1") out = true;
  else if (s == "false" || s == "0") out = false;
  else throw InputError(cat("model config: ", key, " = '", s, "' is not a boolean"));
}
template <typename T>
void from_text(const std::string& key, const std::string& s, T& out) {
  std::istringstream is(s);
  if (!(is >> out) || !is.eof()) throw InputError(cat("model config: ", key, " = '", s, "' is not a number"));
}

}  // namespace

ModelConfig ModelConfig::preset(const std::string& type) {
  ModelConfig c;
  c.type = type;
  if (type == "bottleneck") {
    c.enc_type = "rnn";
    c.dec_type = "bottleneck";
    c.enc_depth = c.dec_depth = 2;
    c.enc_bidirectional = false;
    c.dim_rnn = 512;
  } else if (type == "attention") {
    c.enc_type = "rnn";
    c.dec_type = "attention";
    c.enc_depth = c.dec_depth = 1;
    c.enc_bidirectional = true;
    c.dim_rnn = 512;
  } else if (type == "transformer") {
    c.enc_type = c.dec_type = "transformer";
    c.enc_depth = c.dec_depth = 3;
    c.dropout = 0.1f;
  } else if (type != "custom") {
    throw InputError(cat("unknown model type '", type, "' (expected bottleneck, attention, transformer)"));
  }
  return c;
}

std::map<std::string, std::string> ModelConfig::to_map() const {
  std::map<std::string, std::string> m;
  ModelConfig copy = *this;
  visit_fields(copy, [&](const std::string& key, auto& value) { m[key] = to_text(value); });
  return m;
}

ModelConfig ModelConfig::from_map(const std::map<std::string, std::string>& m) {
  ModelConfig c;
  visit_fields(c, [&](const std::string& key, auto& value) {
    auto it = m.find(key);
    if (it != m.end()) from_text(key, it->second, value);
  });
  c.validate();
  return c;
}

void ModelConfig::validate() const {
  auto one_of = [](const std::string& key, const std::string& v, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed)
      if (v == a) return;
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    throw InputError(cat("--", key, " '", v, "' is not one of: ", list));
  };
  one_of("enc-type", enc_type, {"rnn", "transformer"});
  one_of("dec-type", dec_type, {"bottleneck", "attention", "transformer"});
  one_of("cell", cell, {"lstm", "gru", "rnn"});
  one_of("attention", attention, {"dot", "general", "mlp"});
  one_of("transformer-norm", transformer_norm, {"pre", "post"});
  one_of("transformer-positions", transformer_positions, {"sinusoidal", "learned"});
  if (enc_depth < 1 || dec_depth < 1)
    throw InputError(cat("--enc-depth and --dec-depth must be >= 1, got ", enc_depth, " and ", dec_depth));
  if (dim_emb < 1 || dim_rnn < 1) throw InputError(cat("--dim-emb ", dim_emb, " and --dim-rnn ", dim_rnn, " must be >= 1"));
  if (enc_type == "rnn" && enc_bidirectional && dim_rnn % 2)
    throw InputError(cat("--dim-rnn ", dim_rnn, " must be even with a bidirectional encoder (half per direction)"));
  if (dropout < 0 || dropout >= 1) throw InputError(cat("--dropout ", dropout, " must be in [0, 1)"));
  if (dec_type == "transformer" || enc_type == "transformer") {
    if (transformer_heads < 1 || dim_emb % transformer_heads)
      throw InputError(cat("--dim-emb ", dim_emb, " must be a multiple of --transformer-heads ", transformer_heads));
    if (transformer_dim_ffn < 1)
      throw InputError(cat("--transformer-dim-ffn must be >= 1, got ", transformer_dim_ffn));
    if (!(transformer_dropout >= 0 && transformer_dropout < 1) ||
        !(transformer_dropout_attention >= 0 && transformer_dropout_attention < 1))
      throw InputError(cat("--transformer-dropout ", transformer_dropout, " and --transformer-dropout-attention ",
                           transformer_dropout_attention, " must be in [0, 1)"));
    if (transformer_positions == "learned" && max_positions < 1)
      throw InputError(cat("--max-positions must be >= 1 with learned positions, got ", max_positions));
  }
  if (dec_type == "transformer" && enc_type == "rnn" && dim_rnn != dim_emb)
    throw InputError(cat("--dec-type transformer attends over encoder states as wide as --dim-emb ", dim_emb,
                         ", but the RNN encoder's are --dim-rnn ", dim_rnn, " wide: set --dim-rnn ", dim_emb));
  if (tied_embeddings_all && src_vocab_size && trg_vocab_size && src_vocab_size != trg_vocab_size)
    throw InputError(cat("--tied-embeddings-all needs one joint vocabulary, got sizes ", src_vocab_size, " and ",
                         trg_vocab_size));
}

}  // namespace nmt
