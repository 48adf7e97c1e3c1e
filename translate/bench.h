// `nmt bench translate`: translation speed of a model on a file, with greedy search and
// with beam search (beam 5): sentences/s and target tokens/s, peak resident memory, the
// thread count and the machine's CPU.
#pragma once

#include <string>

namespace nmt {

struct BenchTranslateOptions {
  std::string model, input;  // the model file, and a text file of one sentence a line
  int mini_batch = 64;       // as TranslateOptions::mini_batch
  int workers = 0;           // as nmt translate's workers option (core/worker_pool.h)
  bool int8 = false;         // as TranslateOptions::int8
  std::string shortlist;     // a shortlist file (translate/shortlist.h); empty: none
};

// Translates the input after a short warm-up, with the threads of the calling thread's
// Context, and prints the report on stdout; returns 0. Option values that break their
// rules (TranslateOptions::validate, make_workers) throw OptionError before the model is
// loaded; a bad model or input file throws InputError.
int bench_translate(const BenchTranslateOptions& options);

}  // namespace nmt
