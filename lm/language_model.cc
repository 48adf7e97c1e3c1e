#include "lm/language_model.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "lm/rnn_lm.h"
#include "lm/transformer_lm.h"
#include "model/model.h"

namespace nmt {

LanguageModel::LanguageModel(const ModelConfig& config) : config_(config) {
  config_.validate();
  if (!config_.is_language_model())
    throw Error(
        cat("LanguageModel: type ", config_.type, " (enc-type ", config_.enc_type, ") is not a language model"));
  if (config_.trg_vocab_size < 4)
    throw InputError(cat("vocabulary size ", config_.trg_vocab_size, " is too small for a language model"));
}

Var LanguageModel::add_embeddings(const Init& init) {
  embeddings_ = params_.add("embeddings.trg", {config_.trg_vocab_size, config_.dim_emb}, init);
  return embeddings_;
}

void LanguageModel::finish(uint64_t seed) {
  params_.allocate(seed);
  // The padding row is never looked up by a real token.
  std::fill(embeddings_->value.data(), embeddings_->value.data() + config_.dim_emb, 0.0f);
}

std::unique_ptr<LanguageModel> make_language_model(const ModelConfig& config, uint64_t seed) {
  config.validate();
  if (config.dec_type == "rnn") return std::make_unique<RnnLanguageModel>(config, seed);
  if (config.dec_type == "transformer") return std::make_unique<TransformerLanguageModel>(config, seed);
  throw Error(cat("make_language_model: type ", config.type, " (enc-type ", config.enc_type, ", dec-type ",
                  config.dec_type, ") is not a language model"));
}

ModelFile lm_to_file(LanguageModel& model, const Vocab& vocab) {
  ModelFile f;
  f.config = model.config().to_map();
  f.blobs["vocab.trg"] = vocab.serialized();
  put_params(f, model.params());
  return f;
}

LoadedLm lm_from_file(const ModelFile& file, const std::string& path) {
  if (!is_language_model_file(file)) {
    auto type = file.config.find("type");
    throw InputError(cat(path, " is a translation model (type ", type == file.config.end() ? "?" : type->second,
                         "), not a language model: train one with nmt train --type lm or lm-transformer"));
  }
  auto vocab = file.blobs.find("vocab.trg");
  if (vocab == file.blobs.end()) throw InputError(cat(path, ": language model file has no vocabulary"));
  LoadedLm m;
  m.vocab = std::make_shared<Vocab>(Vocab::from_bytes(vocab->second));
  m.model = make_language_model(config_from_file(file, path), 1);
  get_params(file, m.model->params());
  return m;
}

void save_lm(const std::string& path, LanguageModel& model, const Vocab& vocab) {
  save_model_file(path, lm_to_file(model, vocab));
}

LoadedLm load_lm(const std::string& path) { return lm_from_file(load_model_file(path), path); }

}  // namespace nmt
