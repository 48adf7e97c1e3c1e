#include "cli/model_options.h"

namespace nmt::cli {

po::options_description model_options() {
  po::options_description g("Model options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("type", po::value<std::string>()->default_value("attention"),
       "model preset: bottleneck, attention, transformer; language models lm (RNN), lm-transformer (fills the options below; any given explicitly wins)")
      ("enc-type", po::value<std::string>(), "encoder: rnn | transformer | none (a language model)")
      ("dec-type", po::value<std::string>(), "decoder: bottleneck | attention | transformer; a language model's: rnn | transformer")
      ("cell", po::value<std::string>(), "RNN cell: lstm | gru | rnn (vanilla tanh)")
      ("enc-depth", po::value<int>(), "encoder layers")
      ("dec-depth", po::value<int>(), "decoder layers")
      ("enc-bidirectional", po::value<bool>(), "bidirectional RNN encoder (true/false); --dim-rnn is split between the directions")
      ("dim-emb", po::value<int64_t>(), "embedding size")
      ("dim-rnn", po::value<int64_t>(), "RNN state size")
      ("attention", po::value<std::string>(), "RNN attention: dot | general | mlp")
      ("dim-att", po::value<int64_t>(), "size of the mlp attention's hidden layer")
      ("tied-embeddings", po::value<bool>(), "tie target embeddings and output layer (true/false)")
      ("tied-embeddings-all", po::value<bool>(), "tie source, target embeddings and output layer (joint vocabulary)")
      ("dropout", po::value<float>(), "dropout probability (RNN models)")
      ("transformer-heads", po::value<int>(), "attention heads")
      ("transformer-dim-ffn", po::value<int64_t>(), "feed-forward inner size")
      ("transformer-norm", po::value<std::string>(), "layer normalisation placement: pre | post")
      ("transformer-dropout", po::value<float>(), "dropout of the transformer layers")
      ("transformer-dropout-attention", po::value<float>(), "dropout on attention weights")
      ("transformer-positions", po::value<std::string>(), "position encodings: sinusoidal | learned")
      ("max-positions", po::value<int>(), "longest sequence learned positions cover")
      ("lm-mode", po::value<std::string>(), "language models: sentence (each line <s> ... </s>) or stream (the text one stream, read in --bptt windows)")
      ("bptt", po::value<int>(), "language models, stream mode: window length in pieces (truncated backpropagation through time; default 35)");
  // clang-format on
  return g;
}

ModelConfig model_config_from(const po::variables_map& vm) {
  ModelConfig c = ModelConfig::preset(vm["type"].as<std::string>());
  auto set = [&](const char* key, auto& field) {
    using T = std::decay_t<decltype(field)>;
    if (vm.count(key)) field = vm[key].as<T>();
  };
  set("enc-type", c.enc_type);
  set("dec-type", c.dec_type);
  set("cell", c.cell);
  set("enc-depth", c.enc_depth);
  set("dec-depth", c.dec_depth);
  set("enc-bidirectional", c.enc_bidirectional);
  set("dim-emb", c.dim_emb);
  set("dim-rnn", c.dim_rnn);
  set("attention", c.attention);
  set("dim-att", c.dim_att);
  set("tied-embeddings", c.tied_embeddings);
  set("tied-embeddings-all", c.tied_embeddings_all);
  set("dropout", c.dropout);
  set("transformer-heads", c.transformer_heads);
  set("transformer-dim-ffn", c.transformer_dim_ffn);
  set("transformer-norm", c.transformer_norm);
  set("transformer-dropout", c.transformer_dropout);
  set("transformer-dropout-attention", c.transformer_dropout_attention);
  set("transformer-positions", c.transformer_positions);
  set("max-positions", c.max_positions);
  set("lm-mode", c.lm_mode);
  set("bptt", c.bptt);
  return c;
}

}  // namespace nmt::cli
