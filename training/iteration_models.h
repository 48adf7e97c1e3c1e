// The last validated models that `nmt train --keep-checkpoints N` keeps for checkpoint
// averaging (nmt average): PATH.iter{U}, the model (smoothed, as PATH) validated at update U.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nmt {

// PATH.iter{U}.
std::string iteration_model_path(const std::string& model_path, int64_t update);

// The updates U of the PATH.iter{U} files beside `model_path`, ascending (a file whose name
// goes on after the digits, such as a temporary file, is not one).
std::vector<int64_t> iteration_models(const std::string& model_path);

// Deletes all but the last `keep` of them (the highest updates).
void keep_last_iteration_models(const std::string& model_path, int keep);

}  // namespace nmt
