#include <algorithm>
#include <iostream>
#include <iterator>

#include "cli/model_options.h"
#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "core/format.h"
#include "io/json.h"
#include "ops/bf16.h"
#include "ops/flops.h"
#include "training/bench.h"
#include "training/bench_allreduce.h"
#include "training/trainer.h"
#include "translate/bench.h"
#include "translate/translator.h"

namespace nmt::cli {
namespace {

po::options_description report_options() {
  po::options_description g("Report options");
  g.add_options()("json", po::bool_switch(),
                  "print the figures as one JSON object on stdout (the text report goes to stderr)");
  return g;
}

// With --json, stdout carries the JSON object alone, so that a script can read it whole; the
// text still goes to stderr, for the person watching and for logs.
void print_report(const po::variables_map& vm, const std::string& text, const std::string& json) {
  if (get<bool>(vm, "json")) {
    std::cerr << text << std::flush;
    std::cout << json << std::flush;
  } else {
    std::cout << text << std::flush;
  }
}

int bench_train_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench train";
  spec.usage = "nmt bench train --type T --train-sets SRC TRG --vocabs V.spm V.spm [options]";
  spec.summary = "Measures training throughput (source+target tokens/s) and peak memory.";
  po::options_description data("Bench options");
  // One option a line, as a table:
  // clang-format off
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
  // clang-format on
  spec.groups.push_back(data);
  spec.groups.push_back(model_options());
  spec.groups.push_back(report_options());
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
  const BenchTrainReport report = bench_train(o);
  if (report.rank == 0) print_report(*vm, bench_train_text(report), bench_train_json(report));
  return 0;
}

int bench_translate_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench translate";
  spec.usage = "nmt bench translate -m MODEL -i FILE [options]";
  spec.summary =
      "Translates FILE with greedy search and with beam search (beam 5, normalize 0.6) after a short\n"
      "warm-up, and reports sentences/s and target tokens/s (</s> included) for each, the peak resident\n"
      "memory, the thread count and the CPU.";
  po::options_description opts("Bench options");
  // One option a line, as a table:
  // clang-format off
  opts.add_options()
      ("model,m", po::value<std::string>()->required(), "model file")
      ("input,i", po::value<std::string>()->required(), "source sentences, one a line, plain or gzip")
      ("mini-batch", po::value<int>()->default_value(64), "sentences per batch")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("workers", po::value<int>()->default_value(0),
       "mini-batches translated side by side, each on its share of --cpu-threads, as nmt translate --workers "
       "(0: one per thread)")
      ("gemm-type", po::value<std::string>()->default_value("float32"), "float32 or int8, as nmt translate --gemm-type")
      ("shortlist", po::value<std::string>(), "score only each batch's shortlist vocabulary, as nmt translate --shortlist");
  // clang-format on
  spec.groups.push_back(opts);
  spec.groups.push_back(report_options());
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
  const BenchTranslateReport report = bench_translate(o);
  print_report(*vm, bench_translate_text(report), bench_translate_json(report));
  return 0;
}

// One precision of bench matmul: GFLOP/s with the activations already in that type, and with
// their conversion from fp32 included (what a model in that precision pays).
struct MatmulFigures {
  Precision precision;
  bool available = false;
  double gflops = 0, with_conversion = 0;
};

// The f32 figure the others are compared with; 0 when f32 was not measured (no ratios then).
double f32_base(const std::vector<MatmulFigures>& rows) {
  for (const MatmulFigures& r : rows)
    if (r.precision == Precision::f32) return r.gflops;
  return 0;
}

std::string matmul_text(const std::vector<MatmulFigures>& rows, const std::vector<int64_t>& shape) {
  const std::string mnk = cat(shape[0], "x", shape[1], "x", shape[2]);
  const double base = f32_base(rows);
  std::string out;
  for (const MatmulFigures& r : rows) {
    const char* name = precision_name(r.precision);
    if (!r.available)
      out += printf_string("matmul %s %-4s: not available (oneDNN has no %s matmul at %s)\n", mnk.c_str(), name, name,
                           onednn_isa_name());
    else if (base > 0)
      out += printf_string("matmul %s %-4s: %7.1f GFLOP/s (%.2fx f32), %7.1f with the input conversion (%.2fx)\n",
                           mnk.c_str(), name, r.gflops, r.gflops / base, r.with_conversion, r.with_conversion / base);
    else
      out += printf_string("matmul %s %-4s: %7.1f GFLOP/s, %7.1f with the input conversion\n", mnk.c_str(), name,
                           r.gflops, r.with_conversion);
  }
  return out + printf_string("%d threads\n", Context::get().threads());
}

std::string matmul_json(const std::vector<MatmulFigures>& rows, const std::vector<int64_t>& shape) {
  JsonObject j;
  j.set("bench", "matmul").set("m", shape[0]).set("n", shape[1]).set("k", shape[2]);
  j.set("threads", Context::get().threads()).set("onednn_isa", onednn_isa_name());
  const double base = f32_base(rows);
  for (const MatmulFigures& r : rows) {
    JsonObject p;
    p.set("available", r.available);
    if (r.available) {
      p.set("gflops", r.gflops).set("gflops_with_conversion", r.with_conversion);
      if (base > 0)
        p.set("speedup_vs_f32", r.gflops / base).set("speedup_with_conversion_vs_f32", r.with_conversion / base);
    } else {
      p.set("reason", cat("oneDNN has no ", precision_name(r.precision), " matmul at ", onednn_isa_name()));
    }
    j.set(precision_name(r.precision), p);
  }
  return j.str() + "\n";
}

// The --precisions of bench matmul, each once, f32 first (the base of the ratios).
std::vector<Precision> parse_precisions(const std::vector<std::string>& names) {
  const Precision all[] = {Precision::f32, Precision::bf16, Precision::s8};
  std::vector<Precision> out;
  for (const std::string& name : names) {
    const auto it =
        std::find_if(std::begin(all), std::end(all), [&](Precision p) { return name == precision_name(p); });
    if (it == std::end(all)) throw UsageError(cat("--precisions takes f32, bf16 or s8, got '", name, "'"));
    if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Which number types could pay on this CPU: the same product in f32, bf16 and int8.
int bench_matmul_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench matmul";
  spec.usage = "nmt bench matmul [--shape M N K] [--precisions f32 bf16 s8] [--cpu-threads N] [--json]";
  spec.summary =
      "Measures one oneDNN matmul [M,K]x[K,N] -> fp32 in f32, bf16 and int8 (u8 x s8) inputs: GFLOP/s with the\n"
      "activations already in that type, and with their conversion from fp32 included (and the ratios to f32\n"
      "when f32 is measured).";
  po::options_description opts("Bench options");
  // One option a line, as a table:
  // clang-format off
  opts.add_options()
      ("shape", po::value<std::vector<int64_t>>()->multitoken()->default_value({2048, 1024, 1024}, "2048 1024 1024"),
       "M N K")
      ("precisions", po::value<std::vector<std::string>>()->multitoken()->default_value({"f32", "bf16", "s8"}, "f32 bf16 s8"),
       "the input types to measure, of f32, bf16 and s8")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)");
  // clang-format on
  spec.groups.push_back(opts);
  spec.groups.push_back(report_options());
  auto vm = parse(spec, args);
  if (!vm) return 0;
  const auto shape = get<std::vector<int64_t>>(*vm, "shape");
  if (shape.size() != 3) throw UsageError(cat("--shape needs 3 sizes M N K, got ", shape.size()));
  const std::vector<Precision> precisions = parse_precisions(get<std::vector<std::string>>(*vm, "precisions"));
  Context::get().set_threads(get<int>(*vm, "cpu-threads"));
  std::vector<MatmulFigures> rows;
  for (Precision p : precisions) {
    MatmulFigures r{p, matmul_available(p)};
    if (r.available) {
      r.gflops = measure_matmul_gflops(p, shape[0], shape[1], shape[2], false);
      // In f32 there is nothing to convert: the same product.
      r.with_conversion = p == Precision::f32 ? r.gflops : measure_matmul_gflops(p, shape[0], shape[1], shape[2], true);
    }
    rows.push_back(r);
  }
  print_report(*vm, matmul_text(rows, shape), matmul_json(rows, shape));
  return 0;
}

// The gradient allreduce of data-parallel training, timed for arena sizes (under mpirun).
int bench_allreduce_command(const Args& args) {
  CommandSpec spec;
  spec.name = "bench allreduce";
  spec.usage = "mpirun -np N nmt bench allreduce [--floats N ...] [--repeats R] [--json]";
  spec.summary =
      "Times the in-place MPI_Allreduce (sum) of fp32 gradient arenas across the processes mpirun started: the\n"
      "median of R repeats per size, with the algorithm and bus bandwidths. The default sizes are the bottleneck,\n"
      "attention and transformer reference models and a 60M-parameter transformer-base.";
  po::options_description opts("Bench options");
  // One option a line, as a table:
  // clang-format off
  opts.add_options()
      ("floats", po::value<std::vector<int64_t>>()->multitoken()->default_value({9540000, 5470000, 7580000, 60000000},
       "9540000 5470000 7580000 60000000"), "arena sizes in floats")
      ("repeats", po::value<int>()->default_value(10), "timed allreduces per size");
  // clang-format on
  spec.groups.push_back(opts);
  spec.groups.push_back(report_options());
  auto vm = parse(spec, args);
  if (!vm) return 0;
  BenchAllreduceOptions o;
  o.floats = get<std::vector<int64_t>>(*vm, "floats");
  o.repeats = get<int>(*vm, "repeats");
  const BenchAllreduceReport report = bench_allreduce(o);
  if (report.rank == 0) print_report(*vm, bench_allreduce_text(report), bench_allreduce_json(report));
  return 0;
}

}  // namespace

int bench_command(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: nmt bench train [options]   training tokens/s and memory\n"
                 "       nmt bench translate [options]   decoding sentences/s\n"
                 "       nmt bench matmul [options]      one matmul's GFLOP/s in f32, bf16 and int8\n"
                 "       nmt bench allreduce [options]   the gradient allreduce's time under mpirun\n"
                 "Each takes --json: the figures as one JSON object on stdout, the text on stderr.\n";
    return args.empty() ? 2 : 0;
  }
  const Args rest(args.begin() + 1, args.end());
  const std::string& bench = args[0];
  try {  // as cli::run does, naming the benchmark too
    if (bench == "train") return bench_train_command(rest);
    if (bench == "translate") return bench_translate_command(rest);
    if (bench == "matmul") return bench_matmul_command(rest);
    if (bench == "allreduce") return bench_allreduce_command(rest);
  } catch (const OptionError& e) {
    throw UsageError(cat("bench ", bench, ": ", e.what(), " (see nmt bench ", bench, " --help)"));
  }
  throw UsageError(cat("nmt bench: unknown benchmark '", bench, "' (expected train, translate, matmul or allreduce)"));
}

}  // namespace nmt::cli
