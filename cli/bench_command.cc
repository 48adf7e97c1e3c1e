#include <cstdio>
#include <iostream>

#include "cli/model_options.h"
#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "ops/flops.h"
#include "ops/bf16.h"
#include "training/bench.h"
#include "training/trainer.h"
#include "translate/bench.h"
#include "translate/translator.h"

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
      ("maxi-batch-sort", po::value<std::string>(),
       "sort a maxi-batch by: src (source, then target length), trg, max (the longer side; least padding) (default: max for a transformer encoder, src for an RNN)")
      ("max-length", po::value<int>()->default_value(100), "drop pairs longer than this")
      ("learn-rate", po::value<float>()->default_value(3e-4f), "learning rate")
      ("warmup", po::value<int>()->default_value(5), "updates before timing")
      ("steps", po::value<int>()->default_value(40), "timed updates per pass")
      ("seed", po::value<uint64_t>()->default_value(1), "random seed")
      ("rnn-recompute", po::bool_switch(), "rebuild RNN workspaces in the backward (as nmt train --rnn-recompute)")
      ("precision", po::value<std::vector<std::string>>()->multitoken(),
       "matrix products in float32 (default) or bfloat16 (as nmt train --precision)")
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
  if (vm->count("maxi-batch-sort")) o.train.maxi_batch_sort = get<std::string>(*vm, "maxi-batch-sort");
  o.train.max_length = get<int>(*vm, "max-length");
  o.train.learn_rate = get<float>(*vm, "learn-rate");
  o.train.seed = get<uint64_t>(*vm, "seed");
  o.train.rnn_recompute = get<bool>(*vm, "rnn-recompute");
  if (vm->count("precision")) o.train.bf16 = bf16_precision(get<std::vector<std::string>>(*vm, "precision"));
  o.train.model = model_config_from(*vm);
  o.warmup = get<int>(*vm, "warmup");
  o.steps = get<int>(*vm, "steps");
  Context::get().set_threads(get<int>(*vm, "cpu-threads"));
  return bench_train(o);
}

int bench_translate_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench translate";
  spec.usage = "nmt bench translate -m MODEL -i FILE [options]";
  spec.summary =
      "Translates FILE with greedy search and with beam search (beam 5, normalize 0.6) after a short\n"
      "warm-up, and prints sentences/s and target tokens/s (</s> included) for each, the peak resident\n"
      "memory, the thread count and the CPU.";
  po::options_description opts("Bench options");
  opts.add_options()
      ("model,m", po::value<std::string>()->required(), "model file")
      ("input,i", po::value<std::string>()->required(), "input file, plain or gzip, one sentence a line")
      ("mini-batch", po::value<int>()->default_value(64), "sentences per batch")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("workers", po::value<int>()->default_value(0),
       "mini-batches translated side by side, each on its share of the threads, as nmt translate does "
       "(0: one per thread)")
      ("gemm-type", po::value<std::string>()->default_value("float32"), "float32 or int8, as nmt translate --gemm-type")
      ("shortlist", po::value<std::string>(),
       "score only each batch's shortlist vocabulary, as nmt translate --shortlist");
  spec.groups.push_back(opts);
  auto vm = parse(spec, args);
  if (!vm) return 0;
  BenchTranslateOptions o;
  o.model = get<std::string>(*vm, "model");
  o.input = get<std::string>(*vm, "input");
  o.mini_batch = get<int>(*vm, "mini-batch");
  o.workers = get<int>(*vm, "workers");
  o.int8 = parse_gemm_type(get<std::string>(*vm, "gemm-type"));
  if (vm->count("shortlist")) o.shortlist = get<std::string>(*vm, "shortlist");
  const int threads = get<int>(*vm, "cpu-threads");
  if (threads < 0) throw UsageError(cat("bench translate: --cpu-threads must be >= 0, got ", threads));
  Context::get().set_threads(threads);
  return bench_translate(o);
}

// Which number types could pay on this CPU: the same product in f32, bf16 and int8.
int bench_matmul_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench matmul";
  spec.usage = "nmt bench matmul [--shape M N K] [--cpu-threads N]";
  spec.summary =
      "Measures one oneDNN matmul [M,K]x[K,N] -> fp32 in f32, bf16 and int8 (u8 x s8) inputs: GFLOP/s with the\n"
      "activations already in that type, and with their conversion from fp32 included.";
  po::options_description opts("Bench options");
  opts.add_options()
      ("shape", po::value<std::vector<int64_t>>()->multitoken()->default_value({2048, 1024, 1024}, "2048 1024 1024"),
       "M N K")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)");
  spec.groups.push_back(opts);
  auto vm = parse(spec, args);
  if (!vm) return 0;
  const auto shape = get<std::vector<int64_t>>(*vm, "shape");
  if (shape.size() != 3) throw UsageError(cat("--shape needs 3 sizes M N K, got ", shape.size()));
  Context::get().set_threads(get<int>(*vm, "cpu-threads"));
  const double base = measure_matmul_gflops(Precision::f32, shape[0], shape[1], shape[2], false);
  for (Precision p : {Precision::f32, Precision::bf16, Precision::s8}) {
    if (!matmul_available(p)) {
      std::printf("matmul %lldx%lldx%lld %-4s: not available (oneDNN has no %s matmul at %s)\n",
                  static_cast<long long>(shape[0]), static_cast<long long>(shape[1]), static_cast<long long>(shape[2]),
                  precision_name(p), precision_name(p), onednn_isa_name());
      continue;
    }
    const double plain = p == Precision::f32 ? base : measure_matmul_gflops(p, shape[0], shape[1], shape[2], false);
    const double conv = p == Precision::f32 ? base : measure_matmul_gflops(p, shape[0], shape[1], shape[2], true);
    std::printf("matmul %lldx%lldx%lld %-4s: %7.1f GFLOP/s (%.2fx f32), %7.1f with the input conversion (%.2fx)\n",
                static_cast<long long>(shape[0]), static_cast<long long>(shape[1]), static_cast<long long>(shape[2]),
                precision_name(p), plain, plain / base, conv, conv / base);
  }
  std::printf("%d threads\n", Context::get().threads());
  return 0;
}

}  // namespace

int bench_command(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: nmt bench train [options]   training tokens/s and memory\n"
                 "       nmt bench translate [options]   decoding sentences/s\n"
                 "       nmt bench matmul [options]      one matmul's GFLOP/s in f32, bf16 and int8\n";
    return args.empty() ? 2 : 0;
  }
  const Args rest(args.begin() + 1, args.end());
  const std::string& bench = args[0];
  try {  // as cli::run does, naming the benchmark too
    if (bench == "train") return bench_train_command(rest);
    if (bench == "translate") return bench_translate_command(rest);
    if (bench == "matmul") return bench_matmul_command(rest);
  } catch (const OptionError& e) {
    throw UsageError(cat("bench ", bench, ": ", e.what(), " (see nmt bench ", bench, " --help)"));
  }
  throw UsageError(cat("nmt bench: unknown benchmark '", bench, "' (expected train, translate or matmul)"));
}

}  // namespace nmt::cli
