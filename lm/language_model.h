// Language models: p(y_1 .. y_n) = prod_t p(y_t | y_<t) over the pieces of one SentencePiece
// vocabulary, on the same core, layers, trainer and model file as the translation models. A
// language model is a model without an encoder (ModelConfig, enc-type none), of two kinds:
//   rnn          (Mikolov et al. 2010; Zaremba et al. 2014) embeddings, dropout, dec-depth
//                RNN layers (cell tanh, LSTM or GRU) with dropout after each, a linear
//                projection to dim-emb when the embeddings are tied and dim-rnn differs, and
//                the output layer (lm/rnn_lm.h);
//   transformer  (decoder-only, Radford et al. 2018) scaled embeddings plus positions,
//                dec-depth layers of causal self-attention and feed-forward, and the output
//                layer (lm/transformer_lm.h).
//
// How a model reads text is part of it (lm-mode, lm/text.h):
//   sentence  each line one sequence: input <s> y1 .. yn, output y1 .. yn </s>;
//   stream    the whole text one stream of lines, each ended by </s> and the first led by
//             one </s> (as if a line had just ended), read in windows of bptt pieces. An RNN
//             carries its state from one window to the next (truncated backpropagation
//             through time: the state a window starts from is a constant of its graph, no
//             gradient flows back into the window before); a transformer reads each window
//             alone.
// A sequence's first input is begin_token(): <s> in sentence mode, </s> in stream mode.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/params.h"
#include "core/random.h"
#include "decoder/decoder.h"
#include "io/model_file.h"
#include "model/config.h"
#include "tokenization/vocab.h"

namespace nmt {

// Where rows of text are: an RNN's hidden (and cell) states, a transformer's keys and
// values of the positions read. One row per sequence read side by side.
class LmState {
 public:
  virtual ~LmState() = default;
  virtual int64_t rows() const = 0;
  // Keeps rows `rows` in that order (rows may repeat: -n samples of one prompt).
  virtual void select(const std::vector<int32_t>& rows) = 0;
  // The tensors that hold what a window passes to the next, in a fixed order (a checkpoint
  // keeps a carried state); none for a transformer, which carries nothing.
  virtual std::vector<Tensor*> carried() = 0;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  LanguageModel(const LanguageModel&) = delete;
  LanguageModel& operator=(const LanguageModel&) = delete;

  const ModelConfig& config() const { return config_; }
  ParamStore& params() { return params_; }
  int64_t vocab_size() const { return config_.trg_vocab_size; }
  bool stream_mode() const { return config_.lm_mode == "stream"; }
  // The first input of a sequence: <s> (sentence mode) or </s> (stream mode).
  int32_t begin_token() const { return stream_mode() ? Vocab::kEos : Vocab::kBos; }
  // Whether a state passes from one window to the next (an RNN's); a transformer's windows
  // stand alone.
  virtual bool carries_state() const = 0;

  // Teacher forcing over batch.input: the label-smoothed cross-entropy of every position
  // against batch.output, [N * T] batch-major, 0 at padding. With `state` (null: every row
  // starts fresh), an RNN starts its rows from it, as constants, and leaves in it the state
  // after position T - 1 (so no row may be padded); a transformer ignores it.
  virtual Var token_losses(const TargetBatch& batch, LmState* state, float label_smoothing, bool training,
                           Rng& rng) = 0;
  // The logits of the same positions, [N * T, V] (no dropout), for scoring; `state` as above.
  virtual Var logits(const TargetBatch& batch, LmState* state) = 0;

  // Decoding: a fresh state of `rows` rows, and one step that reads `previous` (one id a
  // row) and gives the next position's logits [rows, V]. Record no gradient.
  virtual std::unique_ptr<LmState> start(int64_t rows) = 0;
  virtual Var step(LmState& state, const std::vector<int32_t>& previous) = 0;

  // For the probe (lm/probe.h): the rows of `states`, one after the other, as one state.
  virtual std::unique_ptr<LmState> stack(const std::vector<const LmState*>& states) const = 0;
  // Rows r of `inputs` [R, W] (batch-major) read from `start` (R rows); J_r = -log p(targets[r])
  // at the last position. Returns [R, W]: at (r, w) the norm of dJ_r / dh_r(w), where h(w) is
  // the state after reading input w: an RNN's hidden states of every layer (the norm over all
  // of them), a transformer's input to its first layer (embedding plus position). Needs the
  // tape on; leaves the parameters' gradients zero.
  virtual Tensor state_gradient_norms(const std::vector<int32_t>& inputs, int64_t R, int64_t W,
                                      const std::vector<int32_t>& targets, const LmState& start) = 0;

 protected:
  explicit LanguageModel(const ModelConfig& config);
  // The embedding table [V, dim-emb], declared first and drawn from `init`; its padding row
  // is zeroed by finish().
  Var add_embeddings(const Init& init);
  // Allocates and initialises the parameters from `seed`, then zeroes the padding row.
  void finish(uint64_t seed);

  ModelConfig config_;
  ParamStore params_;
  Var embeddings_;
};

// The language model of `config` (validated; it must be one: is_language_model()), its
// parameters drawn from `seed`. Throws OptionError for a bad configuration, InputError for a
// vocabulary too small.
std::unique_ptr<LanguageModel> make_language_model(const ModelConfig& config, uint64_t seed);

// A language model with its vocabulary, as read from a model file.
struct LoadedLm {
  std::unique_ptr<LanguageModel> model;
  std::shared_ptr<Vocab> vocab;
};

// The model part of a language model's file: configuration, the vocabulary (as vocab.trg, the
// vocabulary it predicts) and the parameters.
ModelFile lm_to_file(LanguageModel& model, const Vocab& vocab);
// Throws InputError naming `path` when the file holds a translation model or is broken.
LoadedLm lm_from_file(const ModelFile& file, const std::string& path);
void save_lm(const std::string& path, LanguageModel& model, const Vocab& vocab);
LoadedLm load_lm(const std::string& path);

}  // namespace nmt
