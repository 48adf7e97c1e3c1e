#include "model/model.h"

#include <cmath>

#include "core/error.h"
#include "decoder/rnn_decoder.h"
#include "decoder/transformer_decoder.h"
#include "encoder/rnn_encoder.h"
#include "encoder/transformer_encoder.h"
#include "ops/cross_entropy.h"

namespace nmt {

TransformerConfig transformer_config(const ModelConfig& c, int layers) {
  TransformerConfig t;
  t.layers = layers;
  t.dim = c.dim_emb;
  t.heads = c.transformer_heads;
  t.dim_ffn = c.transformer_dim_ffn;
  t.norm = parse_norm_placement(c.transformer_norm);
  t.dropout = c.transformer_dropout;
  t.dropout_attention = c.transformer_dropout_attention;
  t.positions = parse_position_kind(c.transformer_positions);
  t.max_positions = c.max_positions;
  return t;
}

Model::Model(const ModelConfig& config, uint64_t seed) : config_(config) {
  config_.validate();
  if (config_.is_language_model())
    throw Error(
        cat("Model: type ", config_.type, " is a language model (lm/language_model.h), not a translation model"));
  if (config_.src_vocab_size < 4 || config_.trg_vocab_size < 4)
    throw InputError(
        cat("vocabulary sizes ", config_.src_vocab_size, " and ", config_.trg_vocab_size, " are too small"));
  const Init emb_init{Init::Normal, 1.0f / std::sqrt(static_cast<float>(config_.dim_emb))};
  trg_embeddings_ = params_.add("embeddings.trg", {config_.trg_vocab_size, config_.dim_emb}, emb_init);
  src_embeddings_ = config_.tied_embeddings_all
                        ? trg_embeddings_
                        : params_.add("embeddings.src", {config_.src_vocab_size, config_.dim_emb}, emb_init);
  Var output_weight = config_.tied_embeddings || config_.tied_embeddings_all ? trg_embeddings_ : Var();

  EncoderShape enc_shape;
  if (config_.enc_type == "rnn") {
    RnnEncoderConfig ec;
    ec.cell = parse_cell(config_.cell);
    ec.layers = config_.enc_depth;
    ec.bidirectional = config_.enc_bidirectional;
    ec.dim_emb = config_.dim_emb;
    ec.dim_rnn = config_.enc_bidirectional ? config_.dim_rnn / 2 : config_.dim_rnn;
    ec.dropout = config_.dropout;
    auto enc = std::make_unique<RnnEncoder>(params_, "encoder", ec, src_embeddings_);
    enc_shape = EncoderShape{enc->output_dim(), ec.layers, enc->output_dim()};
    encoder_ = std::move(enc);
  } else if (config_.enc_type == "transformer") {
    encoder_ = std::make_unique<TransformerEncoder>(params_, "encoder", transformer_config(config_, config_.enc_depth),
                                                    src_embeddings_);
    enc_shape = EncoderShape{encoder_->output_dim(), 0, 0};  // no final states: RNN decoders bridge from the mean
  } else {
    throw Error(cat("Model: enc-type '", config_.enc_type, "' passed validate() but has no encoder"));
  }

  if (config_.dec_type == "bottleneck" || config_.dec_type == "attention") {
    RnnDecoderConfig dc;
    dc.cell = parse_cell(config_.cell);
    dc.layers = config_.dec_depth;
    dc.dim_emb = config_.dim_emb;
    dc.dim_rnn = config_.dim_rnn;
    dc.dropout = config_.dropout;
    dc.attention = config_.dec_type == "attention";
    dc.attention_kind = parse_attention_kind(config_.attention);
    dc.dim_att = config_.dim_att;
    dc.vocab = config_.trg_vocab_size;
    decoder_ = std::make_unique<RnnDecoder>(params_, "decoder", dc, enc_shape, trg_embeddings_, output_weight);
  } else if (config_.dec_type == "transformer") {
    decoder_ = std::make_unique<TransformerDecoder>(params_, "decoder", transformer_config(config_, config_.dec_depth),
                                                    config_.trg_vocab_size, trg_embeddings_, output_weight);
  } else {
    throw Error(cat("Model: dec-type '", config_.dec_type, "' passed validate() but has no decoder"));
  }

  params_.allocate(seed);
  // The padding row of the embeddings is zero (it is never looked up by a real token).
  for (const Var& e : {src_embeddings_, trg_embeddings_})
    std::fill(e->value.data(), e->value.data() + config_.dim_emb, 0.0f);
}

Var Model::token_losses(const SourceBatch& src, const TargetBatch& trg, float label_smoothing, bool training,
                        Rng& rng) {
  EncoderOutput enc = encoder_->encode(src, training, rng);
  return decoder_->token_losses(enc, trg, label_smoothing, training, rng);
}

ModelFile model_to_file(Model& model, const Vocab& src_vocab, const Vocab& trg_vocab) {
  ModelFile f;
  f.config = model.config().to_map();
  f.blobs["vocab.src"] = src_vocab.serialized();
  f.blobs["vocab.trg"] = trg_vocab.serialized();
  put_params(f, model.params());
  return f;
}

bool is_language_model_file(const ModelFile& file) {
  auto it = file.config.find("enc-type");
  return it != file.config.end() && it->second == "none";
}

ModelConfig config_from_file(const ModelFile& file, const std::string& path) {
  try {  // a bad configuration in a file is bad input, not a bad option value
    return ModelConfig::from_map(file.config);
  } catch (const OptionError& e) {
    throw InputError(cat(path, ": model configuration: ", e.what()));
  }
}

LoadedModel model_from_file(const ModelFile& file, const std::string& path) {
  if (is_language_model_file(file)) {
    auto type = file.config.find("type");
    throw InputError(cat(path, " is a language model (type ", type == file.config.end() ? "?" : type->second,
                         "), not a translation model: nmt score -i, nmt generate and nmt lm-probe read it"));
  }
  LoadedModel m;
  auto src = file.blobs.find("vocab.src");
  auto trg = file.blobs.find("vocab.trg");
  if (src == file.blobs.end() || trg == file.blobs.end())
    throw InputError(cat(path, ": model file has no vocabularies"));
  m.src_vocab = std::make_shared<Vocab>(Vocab::from_bytes(src->second));
  m.trg_vocab = std::make_shared<Vocab>(Vocab::from_bytes(trg->second));
  m.model = std::make_unique<Model>(config_from_file(file, path), 1);
  get_params(file, m.model->params());
  return m;
}

void save_model(const std::string& path, Model& model, const Vocab& src_vocab, const Vocab& trg_vocab) {
  save_model_file(path, model_to_file(model, src_vocab, trg_vocab));
}

LoadedModel load_model(const std::string& path) { return model_from_file(load_model_file(path), path); }

}  // namespace nmt
