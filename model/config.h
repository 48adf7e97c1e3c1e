// A model's whole configuration: which encoder and decoder, their sizes, and the
// vocabulary sizes. It is stored in the model file (as key = value pairs), so
// translating needs nothing but the model file. A model without an encoder
// (enc-type none) is a language model (lm/language_model.h): its decoder is an RNN
// (dec-type rnn) or a Transformer (dec-type transformer) over the target vocabulary.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace nmt {

struct ModelConfig {
  std::string type = "attention";      // preset: bottleneck | attention | transformer | lm | lm-transformer | custom
  std::string enc_type = "rnn";        // rnn | transformer | none (a language model)
  std::string dec_type = "attention";  // bottleneck | attention | transformer; a language model's: rnn | transformer
  std::string cell = "lstm";           // lstm | gru | rnn
  int enc_depth = 1;
  int dec_depth = 1;
  bool enc_bidirectional = true;
  int64_t dim_emb = 256;
  int64_t dim_rnn = 512;              // decoder state; the encoder's state (both directions together)
  std::string attention = "general";  // dot | general | mlp (mlp materialises N x T x S x dim-att)
  int64_t dim_att = 512;
  bool tied_embeddings = true;      // target embeddings = output layer weights
  bool tied_embeddings_all = true;  // source embeddings too (needs a joint vocabulary)
  float dropout = 0.2f;
  // Transformer
  int transformer_heads = 4;
  int64_t transformer_dim_ffn = 1024;
  std::string transformer_norm = "pre";  // pre | post
  float transformer_dropout = 0.1f;
  float transformer_dropout_attention = 0.0f;
  std::string transformer_positions = "sinusoidal";  // sinusoidal | learned
  int max_positions = 1024;
  // Language models: how they read text, sentence (each line <s> ... </s>) or stream (the
  // text as one stream of lines each ended by </s>, read in windows of bptt pieces)
  std::string lm_mode = "sentence";
  int bptt = 35;
  // Vocabularies
  int64_t src_vocab_size = 0;
  int64_t trg_vocab_size = 0;

  // The preset of the type option (bottleneck, attention, transformer, lm, lm-transformer;
  // custom leaves the defaults): fills every field. OptionError for another name.
  static ModelConfig preset(const std::string& type);
  std::map<std::string, std::string> to_map() const;
  static ModelConfig from_map(const std::map<std::string, std::string>& m);
  // Throws OptionError naming the first option that breaks its rule, by the key it has
  // in to_map (and on the command line). Model's constructor calls it.
  void validate() const;
  // A model without an encoder: a language model over the target vocabulary.
  bool is_language_model() const { return enc_type == "none"; }
};

enum class CellType;  // ops/rnn.h
// The cell option: lstm, gru or rnn (vanilla tanh); OptionError otherwise.
CellType parse_cell(const std::string& name);

}  // namespace nmt
