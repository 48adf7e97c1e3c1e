// Training a translation model (training/objective.h): a parallel corpus, batches cut by target
// tokens from sorted maxi-batches (training/batcher.h), the model's label-smoothed loss and
// validation by perplexity and BLEU (training/validator.h).
#pragma once

#include <memory>

#include "training/objective.h"
#include "training/trainer.h"

namespace nmt {

std::unique_ptr<TrainingObjective> make_translation_objective(const TrainOptions& options);

}  // namespace nmt
