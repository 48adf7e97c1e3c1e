// Training a translation model (training/objective.h): a parallel corpus, batches cut by target
// tokens from sorted maxi-batches (training/batcher.h), the model's label-smoothed loss and
// validation by perplexity and BLEU (training/validator.h). In a distributed run (`world`), rank 0
// reads or trains the vocabularies and hands them to the others, every rank reads and encodes
// the corpus itself (checked to be rank 0's), and rank 0 alone validates.
#pragma once

#include <memory>

#include "training/distributed.h"
#include "training/objective.h"
#include "training/trainer.h"

namespace nmt {

std::unique_ptr<TrainingObjective> make_translation_objective(const TrainOptions& options, const Distributed& world);

}  // namespace nmt
