// `nmt bench translate`: translation speed of a model on a file, with greedy search and
// with beam search (beam 5, normalize 0.6), each timed over the whole file after a warm-up
// on its first mini-batches: sentences/s and target tokens/s (</s> included), peak resident
// memory, the threads and workers, and the machine's CPU. Reports them as text or as one JSON
// object with the same figures.
#pragma once

#include <cstdint>
#include <string>

namespace nmt {

struct BenchTranslateOptions {
  std::string model, input;  // model file; source sentences, one a line, plain or gzip
  int mini_batch = 64;       // sentences per batch
  int workers = 0;           // mini-batches translated side by side (make_workers: 0 = one per thread)
  bool int8 = false;         // linear and LSTM layers on 8-bit integers
  std::string shortlist;     // a lexical shortlist file to score from, or "" for the whole vocabulary
};

// One search timed over the whole file.
struct BenchSearch {
  double seconds = 0;
  int64_t target_tokens = 0;  // of the best hypotheses, </s> included
};

// Every figure of a bench translate run. Rates over zero seconds are inf or NaN; the JSON
// report writes them as null.
struct BenchTranslateReport {
  std::string cpu, onednn_isa;
  int logical_cpus = 0, threads = 0;
  int workers = 1, threads_per_worker = 0;  // one worker: the caller's thread with every thread
  std::string model, model_type, input, shortlist;
  int64_t sentences = 0, source_pieces = 0;  // non-empty lines; their pieces (cut at 256)
  int mini_batch = 0;
  bool int8 = false;
  int int8_weight_bits = 0;  // 8, or 7 where oneDNN's s8 products would saturate (int8 runs only)
  BenchSearch greedy, beam5;
  double peak_rss_mib = 0, tensors_mib = 0;  // peak resident memory; peak tensor pool in use
};

// Option values that break their rules (TranslateOptions::validate, make_workers) throw
// OptionError before the model is loaded; a bad model, input or shortlist file, or an input
// without a non-empty line, throws InputError.
BenchTranslateReport bench_translate(const BenchTranslateOptions& options);

// The human-readable report: the machine, the model and input, a line per search, the memory.
std::string bench_translate_text(const BenchTranslateReport& report);
// The same figures as one JSON object on one line, keys in snake_case: bench ("translate"),
// cpu, logical_cpus, onednn_isa, threads, workers, threads_per_worker, model, model_type, input,
// sentences, source_pieces, mini_batch, gemm_type ("float32" | "int8"), int8_weight_bits (null
// for float32), shortlist (null without one), greedy and beam5 (each {seconds, sentences_per_s,
// target_tokens, target_tokens_per_s}), peak_rss_mib, tensors_mib.
std::string bench_translate_json(const BenchTranslateReport& report);

}  // namespace nmt
