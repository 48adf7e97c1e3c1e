// Training a language model (training/objective.h, lm/language_model.h) on one text file with one
// vocabulary (trained on the text first when the file is missing). How batches are made
// follows the model's lm-mode:
//   sentence  lines (those longer than max-length pieces dropped) in mini-batches of at most
//             mini-batch-words tokens, cut from maxi-batches sorted by length and shuffled,
//             as translation batches its targets (training/batcher.h);
//   stream    the text as R = mini-batch-words / bptt rows side by side (lm/text.h), one
//             window of bptt positions a batch, in order, an epoch being one pass over the
//             windows. An RNN's state is carried from one window to the next (a constant of
//             the next window's graph), starts at zero with each epoch and after a skipped
//             update, and is kept in the checkpoint so that a resumed run continues exactly.
// Validation: ce and perplexity per piece of the validation text through the training code
// (no dropout, no label smoothing): lines in batches of valid-mini-batch in sentence mode,
// the whole text as one row in windows of bptt with the state carried in stream mode.
#pragma once

#include <memory>

#include "training/objective.h"
#include "training/trainer.h"

namespace nmt {

std::unique_ptr<TrainingObjective> make_lm_objective(const TrainOptions& options);

}  // namespace nmt
