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
  spec.usage = "nmt eval --ref REF [--ref REF2 ...] [--hyp HYP] [--tokenize 13a|intl|none] [--lowercase]\n"
               "                [--metrics bleu,chrf] [--by-length N --src SRC]";
  spec.summary =
      "Scores detokenized hypotheses (one sentence a line, from --hyp or stdin; plain or gzip)\n"
      "against references with corpus BLEU and chrF, computed exactly as sacreBLEU 2.x does with\n"
      "its defaults (BLEU: 13a tokenizer, exp smoothing; chrF: 6 character orders, beta 2).\n"
      "Prints one line per metric, then each metric's signature. --by-length adds BLEU per bucket\n"
      "of N source words (words of the --src line, split at whitespace).";
  po::options_description g("Evaluation options");
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
  spec.groups.push_back(g);
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("eval: ", what, " (see nmt eval --help)")); }

std::string display(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace

int eval_command(const Args& args) {
  const auto parsed = parse(eval_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;

  const auto ref_paths = get<std::vector<std::string>>(vm, "ref");
  const std::string hyp_path = get<std::string>(vm, "hyp");
  const auto tok = tokenizer_from_name(get<std::string>(vm, "tokenize"));
  if (!tok) throw bad(cat("--tokenize must be 13a, intl or none, got '", get<std::string>(vm, "tokenize"), "'"));
  const bool lowercase = get<bool>(vm, "lowercase");
  const int width = get<int>(vm, "width");
  if (width < 0 || width > 10) throw bad(cat("--width must be in [0, 10], got ", width));

  bool want_bleu = false, want_chrf = false;
  {
    std::istringstream metrics(get<std::string>(vm, "metrics"));
    for (std::string m; std::getline(metrics, m, ',');) {
      if (m == "bleu") {
        want_bleu = true;
      } else if (m == "chrf") {
        want_chrf = true;
      } else {
        throw bad(cat("--metrics takes bleu and/or chrf, got '", m, "'"));
      }
    }
  }
  if (!want_bleu && !want_chrf) throw bad("--metrics names no metric");

  int64_t bucket_size = 0;
  if (vm.count("by-length")) {
    bucket_size = get<int64_t>(vm, "by-length");
    if (bucket_size < 1) throw bad(cat("--by-length must be at least 1, got ", bucket_size));
    if (!vm.count("src")) throw bad("--by-length needs the source file (--src)");
  } else if (vm.count("src")) {
    throw bad("--src is only used with --by-length");
  }
  for (const auto& r : ref_paths)
    if (r == "-" && hyp_path == "-") throw bad("the hypotheses come from stdin: give --hyp to read a reference from stdin");

  const std::vector<std::string> hyps = read_lines(hyp_path);
  std::vector<std::vector<std::string>> refs;
  for (const auto& path : ref_paths) {
    refs.push_back(read_lines(path));
    if (refs.back().size() != hyps.size())
      throw InputError(cat("eval: the hypotheses (", display(hyp_path), ") have ", hyps.size(),
                           " lines but the reference ", display(path), " has ", refs.back().size()));
  }
  std::vector<std::string> sources;
  if (bucket_size > 0) {
    const std::string src_path = get<std::string>(vm, "src");
    sources = read_lines(src_path);
    if (sources.size() != hyps.size())
      throw InputError(cat("eval: the hypotheses (", display(hyp_path), ") have ", hyps.size(),
                           " lines but the source ", display(src_path), " has ", sources.size()));
  }
  const int nrefs = static_cast<int>(refs.size());

  BleuOptions bleu_opts;
  bleu_opts.tokenize = *tok;
  bleu_opts.lowercase = lowercase;
  ChrfOptions chrf_opts;
  chrf_opts.lowercase = lowercase;

  std::string chrf_name;
  if (want_bleu) {
    const BleuResult r = corpus_bleu_multi(hyps, refs, bleu_opts);
    std::cout << r.format(width) << "\n";
  }
  if (want_chrf) {
    const ChrfResult r = corpus_chrf_multi(hyps, refs, chrf_opts);
    std::cout << r.format(width) << "\n";
    chrf_name = r.name();
  }
  if (want_bleu) std::cout << "BLEU signature: " << bleu_signature(bleu_opts, nrefs) << "\n";
  if (want_chrf) std::cout << chrf_name << " signature: " << chrf_signature(chrf_opts, nrefs) << "\n";

  if (bucket_size > 0) {
    std::cout << "BLEU by source length (buckets of " << bucket_size << " words):\n";
    for (const auto& b : bleu_by_source_length_multi(sources, hyps, refs, bucket_size, bleu_opts))
      std::cout << "  words " << b.min_words << "-" << b.max_words << ": sentences = " << b.sentences << " "
                << b.bleu.format(width) << "\n";
  }
  return 0;
}

}  // namespace nmt::cli
