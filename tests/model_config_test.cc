// ModelConfig::validate: every rule of the model options refuses a bad value with an
// OptionError naming the option by its key and carrying the value.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "model/config.h"

namespace nmt {
namespace {

std::string message_of(const ModelConfig& c) {
  try {
    c.validate();
  } catch (const OptionError& e) {
    return e.what();
  }
  return "no OptionError";
}

TEST(ModelConfigValidate, NamesTheOptionAndTheValue) {
  const std::vector<std::pair<std::function<void(ModelConfig&)>, std::string>> cases = {
      {[](ModelConfig& c) { c.enc_type = "cnn"; }, "enc-type must be rnn, transformer or none, got 'cnn'"},
      {[](ModelConfig& c) { c.dec_type = "rnn"; }, "dec-type must be bottleneck, attention or transformer, got 'rnn'"},
      {[](ModelConfig& c) { c.cell = "lstn"; }, "cell must be lstm, gru or rnn, got 'lstn'"},
      {[](ModelConfig& c) { c.attention = "add"; }, "attention must be dot, general or mlp, got 'add'"},
      {[](ModelConfig& c) { c.transformer_norm = "mid"; }, "transformer-norm must be pre or post, got 'mid'"},
      {[](ModelConfig& c) { c.enc_depth = 0; }, "enc-depth must be >= 1, got 0"},
      {[](ModelConfig& c) { c.dim_rnn = 0; }, "dim-rnn must be >= 1, got 0"},
      {[](ModelConfig& c) { c.dim_rnn = 15; }, "dim-rnn must be even with a bidirectional RNN encoder"},
      {[](ModelConfig& c) { c.dropout = 1; }, "dropout must be in [0, 1), got 1"},
      {[](ModelConfig& c) { c.src_vocab_size = 10, c.trg_vocab_size = 12; },
       "tied-embeddings-all must be false with two vocabularies, got vocabulary sizes 10 and 12"},
      {[](ModelConfig& c) { c = ModelConfig::preset("transformer"), c.transformer_heads = 3; },
       "dim-emb must be a multiple of transformer-heads, got 256 with transformer-heads 3"},
      {[](ModelConfig& c) { c = ModelConfig::preset("transformer"), c.transformer_dropout = -0.1f; },
       "transformer-dropout must be in [0, 1), got -0.1"},
      {[](ModelConfig& c) { c.dec_type = "transformer", c.dim_rnn = 512; },
       "dim-rnn must equal dim-emb with an RNN encoder under a transformer decoder, got 512 with dim-emb 256"},
  };
  for (const auto& [change, message] : cases) {
    ModelConfig c;
    change(c);
    EXPECT_NE(message_of(c).find(message), std::string::npos) << message_of(c);
  }
  EXPECT_EQ(message_of(ModelConfig()), "no OptionError");
  EXPECT_EQ(message_of(ModelConfig::preset("transformer")), "no OptionError");
  EXPECT_THROW(ModelConfig::preset("rnn"), OptionError);
}

// A language model (enc-type none) has its own rules, and its own keys in the model file.
TEST(ModelConfigValidate, LanguageModels) {
  const std::vector<std::pair<std::function<void(ModelConfig&)>, std::string>> cases = {
      {[](ModelConfig& c) { c.dec_type = "attention"; },
       "dec-type must be rnn or transformer with enc-type none (a language model), got 'attention'"},
      {[](ModelConfig& c) { c.lm_mode = "word"; }, "lm-mode must be sentence or stream, got 'word'"},
      {[](ModelConfig& c) { c.bptt = 0; }, "bptt must be >= 1, got 0"},
      {[](ModelConfig& c) { c.cell = "lstn"; }, "cell must be lstm, gru or rnn, got 'lstn'"},
      {[](ModelConfig& c) { c.dec_depth = 0; }, "dec-depth must be >= 1, got 0"},
      {[](ModelConfig& c) { c.dec_type = "transformer", c.transformer_heads = 3; },
       "dim-emb must be a multiple of transformer-heads, got 512 with transformer-heads 3"},
      {[](ModelConfig& c) {
         c.dec_type = "transformer", c.lm_mode = "stream", c.transformer_positions = "learned", c.max_positions = 20;
       },
       "max-positions must be >= bptt with learned positions in stream mode, got 20 with bptt 35"},
  };
  for (const auto& [change, message] : cases) {
    ModelConfig c = ModelConfig::preset("lm");
    change(c);
    EXPECT_NE(message_of(c).find(message), std::string::npos) << message_of(c);
  }
  for (const char* type : {"lm", "lm-transformer"}) {
    const ModelConfig c = ModelConfig::preset(type);
    EXPECT_EQ(message_of(c), "no OptionError") << type;
    EXPECT_TRUE(c.is_language_model());
    EXPECT_EQ(c.to_map().at("lm-mode"), "sentence");
    EXPECT_EQ(ModelConfig::from_map(c.to_map()).to_map(), c.to_map());
  }
  EXPECT_FALSE(ModelConfig::preset("transformer").is_language_model());
  EXPECT_EQ(ModelConfig().to_map().count("lm-mode"), 0u);  // translation models have no such keys
}

}  // namespace
}  // namespace nmt
