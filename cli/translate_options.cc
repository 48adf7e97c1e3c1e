#include "cli/translate_options.h"

#include "core/context.h"
#include "core/error.h"

namespace nmt::cli {

po::options_description translation_options_group() {
  po::options_description g("Translation options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("max-input-length", po::value<int>()->default_value(256), "cut inputs longer than this many pieces (0: never)")
      ("mini-batch", po::value<int>()->default_value(64), "sentences per batch (sorted by length within the maxi-batch)")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("workers", po::value<int>()->default_value(0),
       "mini-batches translated side by side, each on its share of --cpu-threads (0: one per thread; "
       "1: one batch at a time on all threads)")
      ("gemm-type", po::value<std::string>()->default_value("float32"),
       "float32, or int8: linear and LSTM layers on 8-bit integers (weights per output row, activations per row)")
      ("shortlist", po::value<std::string>(),
       "score only the target pieces of this lexical shortlist (nmt shortlist) for each mini-batch's sources "
       "(made for the first model's vocabularies)");
  // clang-format on
  return g;
}

po::options_description search_options_group() {
  po::options_description g("Search options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("beam-size,b", po::value<int>()->default_value(5), "beam size (1: greedy search)")
      ("normalize,n", po::value<float>()->default_value(0.6f), "rank hypotheses by score / length^ALPHA (0: raw score)")
      ("max-length-factor", po::value<float>()->default_value(2.0f), "output at most FACTOR * source pieces + --max-length-offset pieces")
      ("max-length-offset", po::value<int>()->default_value(5), "see --max-length-factor")
      ("allow-unk", po::bool_switch(), "allow <unk> in translations");
  // clang-format on
  return g;
}

TranslateOptions translation_options(const po::variables_map& vm) {
  TranslateOptions opt;
  SearchOptions& so = opt.search;
  so.beam_size = get<int>(vm, "beam-size");
  so.n_best = 1;
  so.normalize = get<float>(vm, "normalize");
  so.max_length_factor = get<float>(vm, "max-length-factor");
  so.max_length_offset = get<int>(vm, "max-length-offset");
  so.allow_unk = get<bool>(vm, "allow-unk");
  opt.mini_batch = get<int>(vm, "mini-batch");
  opt.max_input_length = get<int>(vm, "max-input-length");
  opt.int8 = parse_gemm_type(get<std::string>(vm, "gemm-type"));
  return opt;
}

std::unique_ptr<WorkerPool> set_up_threads(const po::variables_map& vm, const std::string& command) {
  const int threads = get<int>(vm, "cpu-threads");
  if (threads < 0)
    throw UsageError(cat(command, ": --cpu-threads must be >= 0, got ", threads, " (see nmt ", command, " --help)"));
  Context::get().set_threads(threads);
  return make_workers(get<int>(vm, "workers"));
}

}  // namespace nmt::cli
