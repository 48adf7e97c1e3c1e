// A translation model: embeddings, an encoder and a decoder, with every parameter in
// one ParamStore arena; and its file, which carries configuration and vocabularies.
#pragma once

#include <memory>
#include <string>

#include "core/params.h"
#include "decoder/decoder.h"
#include "encoder/encoder.h"
#include "io/model_file.h"
#include "layers/transformer_blocks.h"
#include "model/config.h"
#include "tokenization/vocab.h"

namespace nmt {

// The transformer options of `c` for a stack of `layers` layers (encoder, decoder or language model).
TransformerConfig transformer_config(const ModelConfig& c, int layers);

class Model {
 public:
  // Builds the parameters of `config` and initialises them from `seed`.
  Model(const ModelConfig& config, uint64_t seed);

  const ModelConfig& config() const { return config_; }
  ParamStore& params() { return params_; }
  Encoder& encoder() { return *encoder_; }
  Decoder& decoder() { return *decoder_; }

  // Label-smoothed cross-entropy of every target position, [N * T] in batch-major
  // order, 0 at padding.
  Var token_losses(const SourceBatch& src, const TargetBatch& trg, float label_smoothing, bool training, Rng& rng);

 private:
  ModelConfig config_;
  ParamStore params_;
  Var src_embeddings_, trg_embeddings_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Decoder> decoder_;
};

// A model with its vocabularies, as read from a model file.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::shared_ptr<Vocab> src_vocab, trg_vocab;
};

// Whether a model file holds a language model (enc-type none, lm/language_model.h), which
// model_from_file refuses.
bool is_language_model_file(const ModelFile& file);

// The model part of a model file: configuration, vocabularies, parameters. Reading a
// language model's file throws InputError naming the file and what reads it.
ModelFile model_to_file(Model& model, const Vocab& src_vocab, const Vocab& trg_vocab);
// The configuration a model file carries; a bad one is bad input (InputError naming the file).
ModelConfig config_from_file(const ModelFile& file, const std::string& path_for_errors);
LoadedModel model_from_file(const ModelFile& file, const std::string& path_for_errors);
void save_model(const std::string& path, Model& model, const Vocab& src_vocab, const Vocab& trg_vocab);
LoadedModel load_model(const std::string& path);

}  // namespace nmt
