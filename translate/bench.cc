#include "translate/bench.h"

#include "core/system.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "core/allocator.h"
#include "core/context.h"
#include "core/error.h"
#include "ops/bf16.h"
#include "ops/linear_int8.h"
#include "model/model.h"
#include "tokenization/corpus.h"
#include "translate/shortlist.h"
#include "translate/translator.h"

namespace nmt {
namespace {

constexpr const char* kUsage =
    "nmt bench translate -m MODEL -i FILE [--mini-batch 64] [--cpu-threads N] [--workers W]\n"
    "                    [--gemm-type float32|int8] [--shortlist FILE]";

struct BenchArgs {
  std::string model, input;
  int mini_batch = 64;
  int threads = 0;
  int workers = 0;  // as nmt translate --workers
  bool int8 = false;
  std::string shortlist;  // as nmt translate --shortlist
  bool help = false;
};

int parse_int(const std::string& option, const std::string& value) {
  try {
    size_t used = 0;
    const int v = std::stoi(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw UsageError(cat("bench translate: ", option, " takes an integer, got '", value, "'"));
}

BenchArgs parse_args(const std::vector<std::string>& args) {
  BenchArgs b;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      b.help = true;
      continue;
    }
    if (i + 1 >= args.size()) throw UsageError(cat("bench translate: unknown option or missing value: '", a, "' (usage: ", kUsage, ")"));
    const std::string& v = args[++i];
    if (a == "-m" || a == "--model") {
      b.model = v;
    } else if (a == "-i" || a == "--input") {
      b.input = v;
    } else if (a == "--mini-batch") {
      b.mini_batch = parse_int(a, v);
    } else if (a == "--cpu-threads") {
      b.threads = parse_int(a, v);
    } else if (a == "--workers") {
      b.workers = parse_int(a, v);
    } else if (a == "--gemm-type") {
      b.int8 = parse_gemm_type(v);
    } else if (a == "--shortlist") {
      b.shortlist = v;
    } else {
      throw UsageError(cat("bench translate: unknown option '", a, "' (usage: ", kUsage, ")"));
    }
  }
  if (b.help) return b;
  if (b.model.empty() || b.input.empty()) throw UsageError(cat("bench translate: -m and -i are required (usage: ", kUsage, ")"));
  if (b.mini_batch < 1) throw UsageError(cat("bench translate: --mini-batch must be at least 1, got ", b.mini_batch));
  if (b.threads < 0) throw UsageError(cat("bench translate: --cpu-threads must be >= 0, got ", b.threads));
  return b;
}

struct Run {
  double seconds = 0;
  int64_t target_tokens = 0;
};

Run timed(Model& model, const std::vector<std::vector<int32_t>>& sources, const TranslateOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<Translation> out = translate_ids(model, sources, opt);
  Run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const Translation& t : out)
    if (!t.hypotheses.empty()) r.target_tokens += static_cast<int64_t>(t.hypotheses[0].tokens.size()) + 1;
  return r;
}

}  // namespace

int bench_translate(const std::vector<std::string>& args) {
  const BenchArgs b = parse_args(args);
  if (b.help) {
    std::cout << "Usage: " << kUsage << "\n\n"
              << "Translates FILE with greedy search and with beam search (beam 5, normalize 0.6) after a short\n"
                 "warm-up, and prints sentences/s and target tokens/s (</s> included) for each, the peak resident\n"
                 "memory, the thread count and the CPU. --workers W (default 0: one per thread) translates W\n"
                 "mini-batches side by side, each on its share of the threads, as nmt translate does; --shortlist\n"
                 "FILE scores only each batch's shortlist vocabulary, as nmt translate --shortlist.\n";
    return 0;
  }
  Context::get().set_threads(b.threads);
  const std::unique_ptr<WorkerPool> workers = make_workers(b.workers);
  LoadedModel loaded = load_model(b.model);
  const Shortlist shortlist = b.shortlist.empty() ? Shortlist()
                                                  : Shortlist::load_for(b.shortlist, loaded.src_vocab->size(),
                                                                        loaded.trg_vocab->size());
  const std::vector<std::string> lines = read_lines(b.input);
  std::vector<std::vector<int32_t>> sources;
  int64_t source_pieces = 0, sentences = 0;
  for (const std::string& l : lines) {
    sources.push_back(loaded.src_vocab->encode(l));
    if (sources.back().size() > 256) sources.back().resize(256);  // as nmt translate's default
    source_pieces += static_cast<int64_t>(sources.back().size());
    sentences += sources.back().empty() ? 0 : 1;
  }
  if (sentences == 0) throw InputError(cat(b.input, ": no non-empty lines to translate"));

  std::printf("machine: %s, %d logical CPUs, oneDNN at %s; threads: %d, %s\n", cpu_model().c_str(),
              logical_cpus(), onednn_isa_name(), Context::get().threads(),
              workers ? cat(workers->size(), " workers of ", workers->threads_each(), " thread(s)").c_str()
                      : "one worker");
  std::printf("model: %s (%s), input: %s, %lld sentences, %lld source pieces, mini-batch %d, gemm-type %s%s\n",
              b.model.c_str(), loaded.model->config().type.c_str(), b.input.c_str(), static_cast<long long>(sentences),
              static_cast<long long>(source_pieces), b.mini_batch,
              b.int8 ? cat("int8 (weights of ", int8_weight_levels() == 127 ? 8 : 7, " bits)").c_str() : "float32",
              b.shortlist.empty() ? "" : cat(", shortlist ", b.shortlist).c_str());
  for (int beam : {1, 5}) {
    TranslateOptions opt;
    opt.mini_batch = b.mini_batch;
    opt.search.beam_size = beam;
    opt.int8 = b.int8;
    opt.search.shortlist = b.shortlist.empty() ? nullptr : &shortlist;
    opt.workers = workers.get();
    // Warm-up: builds the primitives of the most common shapes, a batch per worker.
    const size_t n_warm = static_cast<size_t>(b.mini_batch) * (workers ? workers->size() : 1);
    std::vector<std::vector<int32_t>> warm(sources.begin(), sources.begin() + std::min(sources.size(), n_warm));
    translate_ids(*loaded.model, warm, opt);
    const Run r = timed(*loaded.model, sources, opt);
    std::printf("%-7s %8.2f s  %9.1f sentences/s  %10.1f target tokens/s\n", beam == 1 ? "greedy:" : "beam 5:",
                r.seconds, sentences / r.seconds, r.target_tokens / r.seconds);
    std::fflush(stdout);
  }
  std::printf("peak resident memory: %.1f MiB (tensors %.1f MiB)\n", peak_rss_mib(),
              pool_peak_bytes_in_use() / 1048576.0);
  std::fflush(stdout);
  pool_trace_report();
  return 0;
}

}  // namespace nmt
