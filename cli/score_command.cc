// nmt score: forced decoding. For each line pair of SRC and TRG, prints the total
// log-probability the model gives the target (its pieces and </s>) and the average per
// target token, e.g. "-12.3450 -1.0286". With a language model, the same for each line of
// one text (-i), and on stderr the perplexity of the whole text per piece and per word.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "lm/fusion.h"
#include "lm/score.h"
#include "model/model.h"
#include "tokenization/corpus.h"
#include "translate/ensemble.h"
#include "translate/score.h"

namespace nmt::cli {
namespace {

CommandSpec score_spec() {
  CommandSpec spec;
  spec.name = "score";
  spec.usage =
      "nmt score -m MODEL [MODEL...] [--weights W...] -t SRC TRG [-o OUTPUT] [options]\n"
      "       nmt score -m LM -i TEXT [-o OUTPUT] [options]";
  spec.summary =
      "Scores target sentences given their sources (forced decoding). Prints, for each line, the total\n"
      "natural-log probability of the target (its pieces and </s>) and the average per target token.\n"
      "Several models score as an ensemble: the weighted sum (--weights) of their log-probabilities (a\n"
      "language model among them scores the target alone: shallow fusion).\n"
      "With a language model (-i), the same for each line of the text, and on stderr the text's perplexity\n"
      "per piece and per word (whitespace-separated words; both count one </s> a line).";
  po::options_description g("Scoring options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("model,m", po::value<std::vector<std::string>>()->multitoken()->required(), "model file(s); several make an ensemble, which a language model can join (shallow fusion)")
      ("weights", po::value<std::vector<float>>()->multitoken(), "one weight per model of an ensemble (default: all 1)")
      ("texts,t", po::value<std::vector<std::string>>()->multitoken(),
       "SRC TRG files, plain or gzip, with the same number of lines (a translation model)")
      ("input,i", po::value<std::string>(), "the text a language model scores, plain or gzip ('-' = stdin)")
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

// The output file (or stdout), checked for errors once written.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    if (path == "-") return;
    file_.open(path, std::ios::binary | std::ios::trunc);
    if (!file_) throw InputError(cat(path, ": cannot write: ", std::strerror(errno)));
  }
  std::ostream& stream() { return path_ == "-" ? std::cout : file_; }
  void finish() {
    stream().flush();
    if (!stream()) throw InputError(cat(path_ == "-" ? "<stdout>" : path_, ": write error"));
  }

 private:
  std::string path_;
  std::ofstream file_;
};

void print_scores(const std::vector<SentenceScore>& scores, std::ostream& out) {
  char buf[64];
  for (const SentenceScore& s : scores) {
    std::snprintf(buf, sizeof buf, "%.4f %.4f\n", s.log_prob, s.average());
    out << buf;
  }
}

int score_language_model(const po::variables_map& vm, const std::vector<std::string>& paths, WorkerPool* workers) {
  if (paths.size() != 1 || vm.count("weights"))
    throw bad(cat("--input TEXT is scored by one language model, without --weights, got ", paths.size(),
                  paths.size() == 1 ? " model" : " models"));
  const std::string& path = paths[0];
  const ModelFile file = load_model_file(path);
  if (!is_language_model_file(file))
    throw bad(cat(path, " is a translation model: it scores --texts SRC TRG; --input TEXT is for a language model"));
  const LoadedLm lm = lm_from_file(file, path);
  LmScoreOptions opt;
  opt.mini_batch = get<int>(vm, "mini-batch");
  opt.workers = workers;
  const LmScores s = score_text(*lm.model, read_lm_text(get<std::string>(vm, "input"), *lm.vocab), opt);
  Output out(get<std::string>(vm, "output"));
  print_scores(s.lines, out.stream());
  out.finish();
  std::fprintf(stderr,
               "perplexity per piece %.4f (%lld pieces), per word %.4f (%lld words), </s> included; "
               "log-probability %.4f\n",
               s.piece_perplexity(), static_cast<long long>(s.pieces), s.word_perplexity(),
               static_cast<long long>(s.words), s.log_prob);
  return 0;
}

}  // namespace

int score_command(const Args& args) {
  const auto parsed = parse(score_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (vm.count("texts") == vm.count("input"))
    throw bad("give --texts SRC TRG (a translation model) or --input TEXT (a language model)");
  if (vm.count("texts")) {
    const auto texts = get<std::vector<std::string>>(vm, "texts");
    if (texts.size() != 2) throw bad(cat("--texts takes two files (SRC TRG), got ", texts.size()));
    if (texts[0] == "-" && texts[1] == "-") throw bad("at most one of SRC and TRG can be stdin");
  }
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

  if (vm.count("input")) return score_language_model(vm, model_paths, workers.get());
  const auto texts = get<std::vector<std::string>>(vm, "texts");
  LoadedEnsemble loaded = load_fusion_ensemble(model_paths, weights);
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
  Output out(get<std::string>(vm, "output"));
  print_scores(scores, out.stream());
  out.finish();
  return 0;
}

}  // namespace nmt::cli
