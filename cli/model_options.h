// The model options (`--type`, `--dim-emb`, ...), shared by `nmt train` and
// `nmt bench train`.
#pragma once

#include "cli/options.h"
#include "model/config.h"

namespace nmt::cli {

po::options_description model_options();
// The preset of --type, with every option the user gave on top; not validated (the
// library does that: ModelConfig::validate).
ModelConfig model_config_from(const po::variables_map& vm);

}  // namespace nmt::cli
