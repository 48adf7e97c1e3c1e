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
      {[](ModelConfig& c) { c.enc_type = "cnn"; }, "enc-type must be rnn or transformer, got 'cnn'"},
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

}  // namespace
}  // namespace nmt
