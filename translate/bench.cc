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

// The options of one timed search (beam 1: greedy).
TranslateOptions search_options(const BenchTranslateOptions& b, int beam, const Shortlist* shortlist,
                                WorkerPool* workers) {
  TranslateOptions opt;
  opt.mini_batch = b.mini_batch;
  opt.search.beam_size = beam;
  opt.int8 = b.int8;
  opt.search.shortlist = shortlist;
  opt.workers = workers;
  return opt;
}

}  // namespace

int bench_translate(const BenchTranslateOptions& b) {
  search_options(b, 5, nullptr, nullptr).validate();  // before the model is loaded: a bad value costs nothing
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
    const TranslateOptions opt = search_options(b, beam, b.shortlist.empty() ? nullptr : &shortlist, workers.get());
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
