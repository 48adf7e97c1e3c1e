// nmt average: checkpoint averaging. Writes one model whose parameters are the element-wise
// mean of the given models' (model/average.h); they must share configuration and vocabularies.
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/error.h"
#include "model/average.h"

namespace nmt::cli {
namespace {

CommandSpec average_spec() {
  CommandSpec spec;
  spec.name = "average";
  spec.usage = "nmt average -m MODEL MODEL... -o OUTPUT";
  spec.summary =
      "Averages the parameters of models of the same configuration and vocabularies (checkpoint averaging,\n"
      "e.g. the PATH.iter* models that nmt train --keep-checkpoints keeps) into one model file. Models that\n"
      "differ are refused, naming the configuration key or the vocabulary that differs.";
  po::options_description g("Averaging options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("models,m", po::value<std::vector<std::string>>()->multitoken()->required(), "model files to average")
      ("output,o", po::value<std::string>()->required(), "the averaged model file to write");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

}  // namespace

int average_command(const Args& args) {
  const auto parsed = parse(average_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const auto paths = get<std::vector<std::string>>(vm, "models");
  const std::string out = get<std::string>(vm, "output");
  std::vector<LoadedModel> models;
  for (const std::string& p : paths) {
    models.push_back(load_model(p));
    if (models.size() > 1) check_same_model(models[0], paths[0], models.back(), p);  // before reading the rest
  }
  LoadedModel mean = average_models(std::move(models), paths);
  save_model(out, *mean.model, *mean.src_vocab, *mean.trg_vocab);
  std::cerr << "nmt average: wrote the mean of " << paths.size() << " models to " << out << std::endl;
  return 0;
}

}  // namespace nmt::cli
