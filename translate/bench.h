// `nmt bench translate`: translation speed of a model on a file, with greedy search and
// with beam search (beam 5): sentences/s and target tokens/s, peak resident memory, the
// thread count and the machine's CPU.
#pragma once

#include <string>
#include <vector>

namespace nmt {

// args: the arguments after `nmt bench translate`:
//   -m MODEL -i FILE [--mini-batch 64] [--cpu-threads N]
// Prints the report on stdout and returns 0. Bad usage throws UsageError; a bad model or
// input file throws InputError.
int bench_translate(const std::vector<std::string>& args);

}  // namespace nmt
