// Checkpoint averaging: one model whose parameters are the element-wise mean of several
// models' (e.g. the last checkpoints of one training run, nmt train --keep-checkpoints).
#pragma once

#include <string>
#include <vector>

#include "model/model.h"

namespace nmt {

// Throws InputError unless `b` (read from path_b) has the configuration and both
// vocabularies of `a` (from path_a); the message names the first difference: a
// configuration key with both values, or which vocabulary.
void check_same_model(const LoadedModel& a, const std::string& path_a, const LoadedModel& b, const std::string& path_b);

// The mean of `models` (at least one, each read from paths[i]): the first model, its
// parameters replaced by the element-wise mean (summed in double, rounded once to float).
// Throws InputError (check_same_model) when they differ.
LoadedModel average_models(std::vector<LoadedModel> models, const std::vector<std::string>& paths);

}  // namespace nmt
