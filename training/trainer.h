// `nmt train`: trains a model end to end on a parallel corpus, or a language model
// (model.is_language_model()) on one text; the objective (training/objective.h) holds what differs.
//
// Files it writes, next to --model PATH:
//   PATH                   the model (configuration, vocabularies, parameters), after each save;
//                          with --exponential-smoothing its parameters are the smoothed ones
//   PATH.ckpt              the whole training state: model, Adam moments, schedule, random
//                          state, corpus position and validation history. Running the same
//                          command again resumes from it, exactly.
//   PATH.best-METRIC       the best model so far by each validation metric
//   PATH.iter{U}           with keep-checkpoints N: the model validated at update U, the
//                          last N of them (training/iteration_models.h)
// Every file is written to a temporary file and renamed, so a crash never leaves a
// broken one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "training/batcher.h"
#include "training/optimizer.h"

namespace nmt {

// Named in messages by the keys of nmt train's options (train-sets, vocabs, model for
// model_path, mini-batch-words, ...: the field's name with dashes, as in --dump-config).
struct TrainOptions {
  // Data
  std::vector<std::string> train_sets;  // SRC TRG; TEXT for a language model
  std::vector<std::string> valid_sets;  // SRC TRG (optional); TEXT for a language model
  std::vector<std::string> vocabs;      // SRC.spm TRG.spm (trained when missing); one for a language model
  int vocab_size = 8000;
  std::string model_path;
  int max_length = 100;  // pieces; longer training pairs are dropped (and counted)
  // Subword regularisation: SRC [TRG] alpha of the segmentations sampled every epoch
  // (training/corpus.h; 0 or none: the most probable one; one value: both sides).
  std::vector<float> sentencepiece_alphas;
  // Model
  ModelConfig model;
  // Optimisation
  int64_t mini_batch_words = 2000;
  int maxi_batch = 100;
  std::string maxi_batch_sort;  // src | trg | max (training/batcher.h); empty: max for a transformer encoder, else src
  float label_smoothing = 0.1f;
  // R-Drop (ops/linear_cross_entropy.h): every sentence pair trains twice in its batch, under
  // two dropout masks, with this weight on the symmetric KL between the two output
  // distributions (0: off; translation models only).
  float rdrop_alpha = 0;
  float learn_rate = 3e-4f;
  int64_t lr_warmup = 0;
  bool lr_decay_inv_sqrt = false;
  float clip_norm = 1.0f;
  int optimizer_delay = 1;
  AdamConfig adam;
  float exponential_smoothing = 0;  // factor of training/smoothing.h (0: off)
  bool rnn_recompute = false;       // RNN workspaces rebuilt in the backward (ops/rnn.h)
  bool bf16 = false;                // matrix products in bfloat16 (--precision bfloat16; ops/bf16.h)
  uint64_t seed = 1;
  // Schedule
  std::string after = "10e";
  std::string valid_freq = "1e";
  std::string save_freq = "";  // default: with validation
  std::string disp_freq = "100u";
  std::vector<std::string> valid_metrics = {"perplexity", "bleu"};  // no bleu for a language model
  int early_stopping = 10;
  int valid_mini_batch = 64;
  int64_t valid_max_sentences = 0;       // BLEU on the first N validation sentences (0: all)
  std::string valid_translation_output;  // file for the validation translations; {U}, {E}: update, epoch
  int max_divergence = 10;               // consecutive non-finite updates before giving up
  int keep_checkpoints = 0;              // keep the last N validated models as PATH.iter{U} (0: none)
  // Output
  std::string log_file;
  // The options as `key = value` lines (nmt train: the merged command line and config file).
  // The ranks of a distributed run must agree on them, cpu-threads aside (training/distributed.h).
  std::string options_text;

  // Throws OptionError naming the first option that breaks its rule. train() calls it
  // before any file is read or written.
  void validate() const;
  // The rules of the options that updates alone need (corpus and vocabulary files, model,
  // batching, optimizer, precision): all that nmt bench train uses. validate() includes them.
  void validate_updates() const;
};

// The precision option, as Marian's: the type of the forward and backward pass, then
// optionally that of the optimizer. "float32" or "bfloat16" (also "bf16"), then "float32"
// (the master weights, gradients and Adam are always fp32). Returns true for bfloat16;
// throws OptionError naming the value otherwise.
bool bf16_precision(const std::vector<std::string>& values);
// Throws OptionError when bf16 is requested on a CPU whose oneDNN has no bfloat16 products.
void check_bf16_support(bool bf16);

// Validates the options, then runs training; returns the process exit code. Throws on bad
// options (OptionError) and bad input. Started by mpirun, the processes train one model
// together (training/distributed.h): rank 0 reads or trains the vocabularies, writes the log,
// validates and writes every file; a checkpoint resumes on any number of ranks.
int train(const TrainOptions& options);

// The maxi-batch sort to use: `requested` (maxi-batch-sort) when not empty, else `max` for
// a transformer encoder (it pads both sides alike) and `src` for an RNN encoder (one exact
// source length per batch runs as one RNN primitive). Throws OptionError on a bad name.
BatchSort batch_sort_for(const std::string& requested, const std::string& enc_type);

}  // namespace nmt
