// nmt eval: scores translations against references with BLEU and chrF, as sacreBLEU 2.x
// does with its defaults, and optionally BLEU per source-length bucket.
#include <iostream>
#include <sstream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/error.h"
#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/length_buckets.h"
#include "tokenization/corpus.h"

namespace nmt::cli {
namespace {

CommandSpec eval_spec() {
  CommandSpec spec;
  spec.name = "eval";
  spec.usage =
      "nmt eval --ref REF [--ref REF2 ...] [--hyp HYP] [--tokenize 13a|intl|none] [--lowercase]\n"
      "                [--metrics bleu,chrf] [--by-length N --src SRC]";
  spec.summary =
      "Scores detokenized hypotheses (one sentence a line, from --hyp or stdin; plain or gzip)\n"
      "against references with corpus BLEU and chrF, computed exactly as sacreBLEU 2.x does with\n"
      "its defaults (BLEU: 13a tokenizer, exp smoothing; chrF: 6 character orders, beta 2).\n"
      "Prints one line per metric, then each metric's signature. --by-length adds BLEU per bucket\n"
      "of N source words (words of the --src line, split at whitespace).";
  po::options_description g("Evaluation options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("ref,r", po::value<std::vector<std::string>>()->multitoken()->required(),
       "reference file(s); several give multi-reference scores")
      ("hyp,i", po::value<std::string>()->default_value("-"), "hypothesis file ('-' = stdin)")
      ("tokenize,t", po::value<std::string>()->default_value("13a"), "BLEU tokenizer: 13a, intl or none")
      ("lowercase,l", po::bool_switch(), "case-insensitive BLEU and chrF (Python's str.lower)")
      ("metrics,m", po::value<std::string>()->default_value("bleu,chrf"), "comma-separated: bleu, chrf")
      ("width,w", po::value<int>()->default_value(2), "decimals of the printed scores (0..10)")
      ("by-length", po::value<int64_t>(), "also print BLEU per bucket of N source words (needs --src)")
      ("src,s", po::value<std::string>(), "source file, for --by-length");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("eval: ", what, " (see nmt eval --help)")); }

std::string display(const std::string& path) { return path == "-" ? "<stdin>" : path; }

// What to compute and print, from the command line.
struct EvalRequest {
  std::vector<std::string> ref_paths;
  std::string hyp_path, src_path;  // src_path: only with --by-length
  BleuOptions bleu;
  ChrfOptions chrf;
  bool want_bleu = false, want_chrf = false;
  int width = 2;
  int64_t bucket_size = 0;  // --by-length (0: no buckets)
};

// --metrics "bleu,chrf": which of the two, at least one.
void parse_metrics(const std::string& list, EvalRequest& r) {
  std::istringstream metrics(list);
  for (std::string m; std::getline(metrics, m, ',');) {
    if (m == "bleu") {
      r.want_bleu = true;
    } else if (m == "chrf") {
      r.want_chrf = true;
    } else {
      throw bad(cat("--metrics takes bleu and/or chrf, got '", m, "'"));
    }
  }
  if (!r.want_bleu && !r.want_chrf) throw bad("--metrics names no metric");
}

EvalRequest eval_request(const po::variables_map& vm) {
  EvalRequest r;
  r.ref_paths = get<std::vector<std::string>>(vm, "ref");
  r.hyp_path = get<std::string>(vm, "hyp");
  const auto tok = tokenizer_from_name(get<std::string>(vm, "tokenize"));
  if (!tok) throw bad(cat("--tokenize must be 13a, intl or none, got '", get<std::string>(vm, "tokenize"), "'"));
  r.bleu.tokenize = *tok;
  r.bleu.lowercase = r.chrf.lowercase = get<bool>(vm, "lowercase");
  r.width = get<int>(vm, "width");
  if (r.width < 0 || r.width > 10) throw bad(cat("--width must be in [0, 10], got ", r.width));
  parse_metrics(get<std::string>(vm, "metrics"), r);
  if (vm.count("by-length")) {
    r.bucket_size = get<int64_t>(vm, "by-length");
    if (r.bucket_size < 1) throw bad(cat("--by-length must be at least 1, got ", r.bucket_size));
    if (!vm.count("src")) throw bad("--by-length needs the source file (--src)");
    r.src_path = get<std::string>(vm, "src");
  } else if (vm.count("src")) {
    throw bad("--src is only used with --by-length");
  }
  for (const auto& ref : r.ref_paths)
    if (ref == "-" && r.hyp_path == "-")
      throw bad("the hypotheses come from stdin: give --hyp to read a reference from stdin");
  return r;
}

// The lines of `path`, which must have as many as the hypotheses (`what` names it).
std::vector<std::string> read_aligned(const std::string& path, const std::string& what, const EvalRequest& r,
                                      size_t hyps) {
  std::vector<std::string> lines = read_lines(path);
  if (lines.size() != hyps)
    throw InputError(cat("eval: the hypotheses (", display(r.hyp_path), ") have ", hyps, " lines but the ", what, " ",
                         display(path), " has ", lines.size()));
  return lines;
}

void print_scores(const EvalRequest& r, const std::vector<std::string>& hyps,
                  const std::vector<std::vector<std::string>>& refs, const std::vector<std::string>& sources) {
  const int nrefs = static_cast<int>(refs.size());
  std::string chrf_name;
  if (r.want_bleu) std::cout << corpus_bleu_multi(hyps, refs, r.bleu).format(r.width) << "\n";
  if (r.want_chrf) {
    const ChrfResult c = corpus_chrf_multi(hyps, refs, r.chrf);
    std::cout << c.format(r.width) << "\n";
    chrf_name = c.name();
  }
  if (r.want_bleu) std::cout << "BLEU signature: " << bleu_signature(r.bleu, nrefs) << "\n";
  if (r.want_chrf) std::cout << chrf_name << " signature: " << chrf_signature(r.chrf, nrefs) << "\n";
  if (r.bucket_size == 0) return;
  std::cout << "BLEU by source length (buckets of " << r.bucket_size << " words):\n";
  for (const auto& b : bleu_by_source_length_multi(sources, hyps, refs, r.bucket_size, r.bleu))
    std::cout << "  words " << b.min_words << "-" << b.max_words << ": sentences = " << b.sentences << " "
              << b.bleu.format(r.width) << "\n";
}

}  // namespace

int eval_command(const Args& args) {
  const auto parsed = parse(eval_spec(), args);
  if (!parsed) return 0;
  const EvalRequest r = eval_request(*parsed);
  const std::vector<std::string> hyps = read_lines(r.hyp_path);
  std::vector<std::vector<std::string>> refs;
  for (const auto& path : r.ref_paths) refs.push_back(read_aligned(path, "reference", r, hyps.size()));
  const std::vector<std::string> sources =
      r.bucket_size > 0 ? read_aligned(r.src_path, "source", r, hyps.size()) : std::vector<std::string>();
  print_scores(r, hyps, refs, sources);
  return 0;
}

}  // namespace nmt::cli
