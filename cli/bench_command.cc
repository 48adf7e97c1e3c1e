#include <iostream>

#include "cli/model_options.h"
#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "training/bench.h"
#include "translate/bench.h"

namespace nmt::cli {
namespace {

int bench_train_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench train";
  spec.usage = "nmt bench train --type T --train-sets SRC TRG --vocabs V.spm V.spm [options]";
  spec.summary = "Measures training throughput (source+target tokens/s) and peak memory.";
  po::options_description data("Bench options");
  data.add_options()
      ("train-sets,t", po::value<std::vector<std::string>>()->multitoken()->required(), "SRC TRG training files")
      ("vocabs,v", po::value<std::vector<std::string>>()->multitoken()->required(), "SRC TRG SentencePiece models")
      ("mini-batch-words", po::value<int64_t>()->default_value(2000), "target tokens per mini-batch")
      ("maxi-batch", po::value<int>()->default_value(100), "mini-batches sorted by length together")
      ("max-length", po::value<int>()->default_value(100), "drop pairs longer than this")
      ("learn-rate", po::value<float>()->default_value(3e-4f), "learning rate")
      ("warmup", po::value<int>()->default_value(5), "updates before timing")
      ("steps", po::value<int>()->default_value(40), "timed updates per pass")
      ("seed", po::value<uint64_t>()->default_value(1), "random seed")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)");
  spec.groups.push_back(data);
  spec.groups.push_back(model_options());
  auto vm = parse(spec, args);
  if (!vm) return 0;
  BenchTrainOptions o;
  o.train.train_sets = get<std::vector<std::string>>(*vm, "train-sets");
  o.train.vocabs = get<std::vector<std::string>>(*vm, "vocabs");
  o.train.mini_batch_words = get<int64_t>(*vm, "mini-batch-words");
  o.train.maxi_batch = get<int>(*vm, "maxi-batch");
  o.train.max_length = get<int>(*vm, "max-length");
  o.train.learn_rate = get<float>(*vm, "learn-rate");
  o.train.seed = get<uint64_t>(*vm, "seed");
  o.train.model = model_config_from(*vm);
  o.warmup = get<int>(*vm, "warmup");
  o.steps = get<int>(*vm, "steps");
  if (o.steps < 1 || o.warmup < 0) throw UsageError("--steps must be >= 1 and --warmup >= 0");
  Context::get().set_threads(get<int>(*vm, "cpu-threads"));
  return bench_train(o);
}

}  // namespace

int bench_command(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: nmt bench train [options]   training tokens/s and memory\n"
                 "       nmt bench translate [options]   decoding sentences/s\n";
    return args.empty() ? 2 : 0;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "train") return bench_train_command(rest);
  if (args[0] == "translate") return bench_translate(rest);
  throw UsageError(cat("nmt bench: unknown benchmark '", args[0], "' (expected train or translate)"));
}

}  // namespace nmt::cli
