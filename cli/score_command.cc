// nmt score: forced decoding. For each line pair of SRC and TRG, prints the total
// log-probability the model gives the target (its pieces and </s>) and the average per
// target token, e.g. "-12.3450 -1.0286".
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "model/model.h"
#include "tokenization/corpus.h"
#include "translate/ensemble.h"
#include "translate/score.h"

namespace nmt::cli {
namespace {

CommandSpec score_spec() {
  CommandSpec spec;
  spec.name = "score";
  spec.usage = "nmt score -m MODEL [MODEL...] [--weights W...] -t SRC TRG [-o OUTPUT] [options]";
  spec.summary =
      "Scores target sentences given their sources (forced decoding). Prints, for each line, the total\n"
      "natural-log probability of the target (its pieces and </s>) and the average per target token.\n"
      "Several models score as an ensemble: the weighted sum (--weights) of their log-probabilities.";
  po::options_description g("Scoring options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("model,m", po::value<std::vector<std::string>>()->multitoken()->required(), "model file(s); several make an ensemble")
      ("weights", po::value<std::vector<float>>()->multitoken(), "one weight per model of an ensemble (default: all 1)")
      ("texts,t", po::value<std::vector<std::string>>()->multitoken()->required(),
       "SRC TRG files, plain or gzip, with the same number of lines")
      ("output,o", po::value<std::string>()->default_value("-"), "output file ('-' = stdout)")
      ("mini-batch", po::value<int>()->default_value(64), "sentences per batch (sorted by length)")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)")
      ("workers", po::value<int>()->default_value(0),
       "batches scored side by side, each on its share of --cpu-threads (0: one per thread)");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("score: ", what, " (see nmt score --help)")); }

std::string display(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace

int score_command(const Args& args) {
  const auto parsed = parse(score_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const auto texts = get<std::vector<std::string>>(vm, "texts");
  if (texts.size() != 2) throw bad(cat("--texts takes two files (SRC TRG), got ", texts.size()));
  if (texts[0] == "-" && texts[1] == "-") throw bad("at most one of SRC and TRG can be stdin");
  ScoreOptions opt;
  opt.mini_batch = get<int>(vm, "mini-batch");
  opt.validate();  // before the models are loaded: a bad value costs nothing
  const auto model_paths = get<std::vector<std::string>>(vm, "model");
  const auto weights = vm.count("weights") ? get<std::vector<float>>(vm, "weights") : std::vector<float>();
  if (!weights.empty()) check_weights(weights, model_paths.size());
  const int threads = get<int>(vm, "cpu-threads");
  if (threads < 0) throw bad(cat("--cpu-threads must be >= 0, got ", threads));
  Context::get().set_threads(threads);
  const std::unique_ptr<WorkerPool> workers = make_workers(get<int>(vm, "workers"));
  opt.workers = workers.get();

  LoadedEnsemble loaded = load_ensemble(model_paths, weights);
  const std::vector<std::string> src_lines = read_lines(texts[0]);
  const std::vector<std::string> trg_lines = read_lines(texts[1]);
  if (src_lines.size() != trg_lines.size())
    throw InputError(cat("score: the source ", display(texts[0]), " has ", src_lines.size(), " lines but the target ",
                         display(texts[1]), " has ", trg_lines.size()));
  std::vector<MemberSources> src;
  std::vector<std::vector<int32_t>> trg;
  src.reserve(src_lines.size());
  trg.reserve(trg_lines.size());
  for (size_t i = 0; i < src_lines.size(); ++i) {
    src.push_back(loaded.encode_source(src_lines[i]));
    trg.push_back(loaded.trg_vocab().encode(trg_lines[i]));
  }
  const std::vector<SentenceScore> scores = score_ids(*loaded.ensemble, src, trg, opt);

  const std::string out_path = get<std::string>(vm, "output");
  std::ofstream file;
  if (out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) throw InputError(cat(out_path, ": cannot write: ", std::strerror(errno)));
  }
  std::ostream& out = out_path == "-" ? std::cout : file;
  char buf[64];
  for (const SentenceScore& s : scores) {
    std::snprintf(buf, sizeof buf, "%.4f %.4f\n", s.log_prob, s.average());
    out << buf;
  }
  out.flush();
  if (!out) throw InputError(cat(out_path == "-" ? "<stdout>" : out_path, ": write error"));
  return 0;
}

}  // namespace nmt::cli
