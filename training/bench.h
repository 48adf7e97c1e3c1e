// `nmt bench train`: training throughput and memory, measured.
//
// Runs full updates (forward, backward, clipping, Adam) of the configured model on
// `steps` mini-batches of the corpus, twice over the same batches: the first pass
// includes building oneDNN primitives for each new batch shape, the second is the
// steady state (as in every epoch after the first). Prints source+target tokens/s for
// both, and the peak resident memory, with the thread count, as its last line.
#pragma once

#include <string>
#include <vector>

#include "training/trainer.h"

namespace nmt {

struct BenchTrainOptions {
  TrainOptions train;   // model, data, batching, optimiser
  int warmup = 5;       // updates before timing starts (first pass)
  int steps = 40;       // timed updates per pass

  // Throws OptionError naming the first option that breaks its rule (those of
  // TrainOptions::validate_updates, warmup and steps). bench_train calls it.
  void validate() const;
};

int bench_train(const BenchTrainOptions& options);

}  // namespace nmt
