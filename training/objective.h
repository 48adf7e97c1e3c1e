// What the trainer (training/trainer.h) trains, behind one interface: a model with its
// data, its batches, its loss and its validation. The trainer owns everything else: the
// schedule, Adam, clipping, exponential smoothing, checkpoints, signals and the log. Two
// objectives implement it: translation (training/translation_objective.h) and language
// modelling (training/lm_objective.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/graph.h"
#include "core/params.h"
#include "core/random.h"
#include "io/model_file.h"
#include "training/batcher.h"
#include "training/log.h"

namespace nmt {

// One mini-batch as the objective hands it to the trainer, which counts its tokens.
struct TrainBatch {
  virtual ~TrainBatch() = default;
  int64_t target_tokens = 0;  // the positions the loss is averaged over
  int64_t source_tokens = 0;
  int64_t sentences = 0;
};

class TrainingObjective {
 public:
  virtual ~TrainingObjective() = default;

  // Reads the training and validation data (training missing vocabularies on the training
  // data first) and logs what it read. Called first.
  virtual void read_data(TrainLog& log) = 0;
  // A fresh model from the options, or the model of a checkpoint (whose configuration wins
  // over the options), and what else the checkpoint keeps (put_checkpoint_state).
  virtual void new_model(TrainLog& log) = 0;
  virtual void load_checkpoint(const ModelFile& file, const std::string& path) = 0;
  virtual ParamStore& params() = 0;
  virtual std::map<std::string, std::string> config() const = 0;  // the model's, for the log
  // The model part of a model file (configuration, vocabularies, parameters).
  virtual ModelFile model_file() = 0;
  virtual void put_checkpoint_state(ModelFile& file) const {}

  // Batches, from `position` on (a pure function of the position and what a checkpoint keeps,
  // so that a resumed run reads what the uninterrupted one would have read).
  virtual void start_batches(const BatchPosition& position, TrainLog& log) = 0;
  virtual BatchPosition position() const = 0;
  virtual size_t batches_in_epoch() = 0;
  // The next batch; advances the position (to the next epoch after the last batch, setting
  // *new_epoch).
  virtual std::unique_ptr<TrainBatch> next_batch(bool* new_epoch) = 0;
  // The training loss of every position of the batch (dropout on), [positions], 0 at padding.
  virtual Var losses(const TrainBatch& batch, float label_smoothing, Rng& rng) = 0;
  // The update of the last batches was skipped (a non-finite loss or gradient).
  virtual void skipped_update() {}

  // Data-parallel training (training/distributed.h) splits every batch across the processes
  // by target tokens: the target tokens of each sentence of a batch, and the batch of the
  // sentences at `positions` (into it). An objective whose batches cannot be split (a language
  // model's stream windows carry a state from one to the next) trains in one process only.
  virtual bool splits_batches() const { return false; }
  virtual std::vector<int64_t> sentence_tokens(const TrainBatch&) const {
    throw Error("this training objective does not split its batches");
  }
  virtual std::unique_ptr<TrainBatch> part(const TrainBatch&, const std::vector<int32_t>&) const {
    throw Error("this training objective does not split its batches");
  }

  // Validation: whether there is a validation set, and metric name -> value for `metrics`.
  // With `translations`, the validation translations (see Validator::run).
  virtual bool validates() const = 0;
  virtual std::map<std::string, double> validate(const std::vector<std::string>& metrics,
                                                 std::vector<std::string>* translations) = 0;
};

}  // namespace nmt
