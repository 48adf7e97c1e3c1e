#include "model/config.h"

#include <functional>
#include <sstream>

#include "core/error.h"
#include "layers/rnn_attention.h"
#include "layers/transformer_blocks.h"
#include "ops/rnn.h"

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
  if (c.is_language_model()) {  // enc-type is visited (and read) first
    v("lm-mode", c.lm_mode);
    v("bptt", c.bptt);
  }
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
  if (s == "true" || s == "1")
    out = true;
  else if (s == "false" || s == "0")
    out = false;
  else
    throw InputError(cat("model config: ", key, " = '", s, "' is not a boolean"));
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
  } else if (type == "lm" || type == "lm-transformer") {
    // As the PyTorch peer's language models (../shared/peers/pytorch/torch_lm.py): 2 layers
    // of 512, tied embeddings, dropout 0.2; an LSTM, or pre-norm layers of 4 heads and 2048.
    c.enc_type = "none";
    c.dec_type = type == "lm" ? "rnn" : "transformer";
    c.dec_depth = 2;
    c.dim_emb = c.dim_rnn = 512;
    c.tied_embeddings = true;
    c.tied_embeddings_all = false;  // a language model has one embedding table
    c.dropout = c.transformer_dropout = 0.2f;
    c.transformer_dim_ffn = 2048;
  } else if (type != "custom") {
    throw OptionError(cat("type must be bottleneck, attention, transformer, lm or lm-transformer, got '", type, "'"));
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

// The checks of single options' rules, naming the option by its key.
namespace {

void check_one_of(const char* key, const std::string& value, const char* allowed,
                  std::initializer_list<const char*> values) {
  for (const char* v : values)
    if (value == v) return;
  throw OptionError(cat(key, " must be ", allowed, ", got '", value, "'"));
}

void check_at_least_one(const char* key, int64_t value) {
  if (value < 1) throw OptionError(cat(key, " must be >= 1, got ", value));
}

void check_probability(const char* key, float value) {
  if (!(value >= 0 && value < 1)) throw OptionError(cat(key, " must be in [0, 1), got ", value));
}

void validate_transformer(const ModelConfig& c) {
  check_at_least_one("transformer-heads", c.transformer_heads);
  if (c.dim_emb % c.transformer_heads)  // each head attends over dim-emb / heads columns
    throw OptionError(cat("dim-emb must be a multiple of transformer-heads, got ", c.dim_emb,
                          " with transformer-heads ", c.transformer_heads));
  check_at_least_one("transformer-dim-ffn", c.transformer_dim_ffn);
  check_probability("transformer-dropout", c.transformer_dropout);
  check_probability("transformer-dropout-attention", c.transformer_dropout_attention);
  if (c.transformer_positions == "learned" && c.max_positions < 1)
    throw OptionError(cat("max-positions must be >= 1 with learned positions, got ", c.max_positions));
}

// A language model: a decoder alone, reading sentences or a stream in windows of bptt.
void validate_language_model(const ModelConfig& c) {
  check_one_of("dec-type", c.dec_type, "rnn or transformer with enc-type none (a language model)",
               {"rnn", "transformer"});
  check_one_of("lm-mode", c.lm_mode, "sentence or stream", {"sentence", "stream"});
  check_at_least_one("bptt", c.bptt);
  parse_cell(c.cell);
  check_at_least_one("dec-depth", c.dec_depth);
  check_at_least_one("dim-emb", c.dim_emb);
  check_at_least_one("dim-rnn", c.dim_rnn);
  check_probability("dropout", c.dropout);
  if (c.dec_type != "transformer") return;
  parse_norm_placement(c.transformer_norm);
  parse_position_kind(c.transformer_positions);
  validate_transformer(c);
  if (c.lm_mode == "stream" && c.transformer_positions == "learned" && c.max_positions < c.bptt)
    throw OptionError(cat("max-positions must be >= bptt with learned positions in stream mode, got ", c.max_positions,
                          " with bptt ", c.bptt));
}

}  // namespace

void ModelConfig::validate() const {
  check_one_of("enc-type", enc_type, "rnn, transformer or none", {"rnn", "transformer", "none"});
  if (is_language_model()) return validate_language_model(*this);
  check_one_of("dec-type", dec_type, "bottleneck, attention or transformer",
               {"bottleneck", "attention", "transformer"});
  parse_cell(cell);
  parse_attention_kind(attention);
  parse_norm_placement(transformer_norm);
  parse_position_kind(transformer_positions);
  check_at_least_one("enc-depth", enc_depth);
  check_at_least_one("dec-depth", dec_depth);
  check_at_least_one("dim-emb", dim_emb);
  check_at_least_one("dim-rnn", dim_rnn);
  check_probability("dropout", dropout);
  if (enc_type == "rnn" && enc_bidirectional && dim_rnn % 2)
    throw OptionError(cat("dim-rnn must be even with a bidirectional RNN encoder (half per direction), got ", dim_rnn));
  if (enc_type == "transformer" || dec_type == "transformer") validate_transformer(*this);
  // A transformer decoder's cross-attention is as wide as its layers, dim-emb.
  if (dec_type == "transformer" && enc_type == "rnn" && dim_rnn != dim_emb)
    throw OptionError(cat("dim-rnn must equal dim-emb with an RNN encoder under a transformer decoder, got ", dim_rnn,
                          " with dim-emb ", dim_emb));
  if (tied_embeddings_all && src_vocab_size && trg_vocab_size && src_vocab_size != trg_vocab_size)
    throw OptionError(cat("tied-embeddings-all must be false with two vocabularies, got vocabulary sizes ",
                          src_vocab_size, " and ", trg_vocab_size));
}

CellType parse_cell(const std::string& name) {
  if (name == "lstm") return CellType::LSTM;
  if (name == "gru") return CellType::GRU;
  if (name == "rnn") return CellType::Tanh;
  throw OptionError(cat("cell must be lstm, gru or rnn, got '", name, "'"));
}

}  // namespace nmt
