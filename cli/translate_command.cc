// nmt translate: translates text one sentence a line (stdin or a plain/gzip file) with a
// model file, writing line i's translation (or n-best list) as output line(s) for input
// line i. Input is read and translated in groups of --maxi-batch lines, so a pipe is
// answered group by group.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "cli/translate_options.h"
#include "core/error.h"
#include "lm/fusion.h"
#include "model/model.h"
#include "tokenization/corpus.h"
#include "translate/ensemble.h"
#include "translate/output.h"
#include "translate/shortlist.h"
#include "translate/translator.h"

namespace nmt::cli {
namespace {

CommandSpec translate_spec() {
  CommandSpec spec;
  spec.name = "translate";
  spec.usage = "nmt translate -m MODEL [MODEL...] [--weights W...] [-i INPUT] [-o OUTPUT] [options]";
  spec.summary =
      "Translates one sentence a line from INPUT (plain or gzip; default stdin) to OUTPUT (default stdout).\n"
      "Output line i answers input line i; an empty input line gives an empty output line. Inputs longer\n"
      "than --max-input-length pieces are cut (with a warning naming the line). With --n-best, each input\n"
      "line gives --n-best-size lines `ID ||| TEXT ||| F0= SCORE ||| NORMALIZED` (ID 0-based), as Marian.\n"
      "Several models make an ensemble: their log-probabilities are added, weighted by --weights, at every\n"
      "step. They must share the target vocabulary; each reads the source with its own vocabulary. A language\n"
      "model (nmt train --type lm) joins with its weight and reads the target alone (shallow fusion).";
  po::options_description io("Input/output options");
  // One option a line, as a table:
  // clang-format off
  io.add_options()
      ("model,m", po::value<std::vector<std::string>>()->multitoken()->required(), "model file(s); several make an ensemble, which a language model can join (shallow fusion)")
      ("weights", po::value<std::vector<float>>()->multitoken(), "one weight per model of an ensemble (default: all 1)")
      ("input,i", po::value<std::string>()->default_value("-"), "input file, plain or gzip ('-' = stdin)")
      ("output,o", po::value<std::string>()->default_value("-"), "output file ('-' = stdout)")
      ("maxi-batch", po::value<int>()->default_value(1000), "lines read, translated and written together (1 when stdin is a terminal)")
      ("n-best", po::bool_switch(), "print n-best lists instead of the best translation")
      ("n-best-size", po::value<int>(), "hypotheses per n-best list (default: the beam size)")
      ("alignment", po::value<std::string>()->default_value(""), "append alignments: soft or hard (attention models only)")
      ("no-spm-decode", po::bool_switch(), "print SentencePiece pieces separated by spaces instead of detokenized text");
  // clang-format on
  spec.groups.push_back(io);
  spec.groups.push_back(translation_options_group());
  spec.groups.push_back(search_options_group());
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("translate: ", what, " (see nmt translate --help)")); }

// Writes to a file or stdout; write failures are reported once, at flush().
class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    if (path != "-") {
      file_.open(path, std::ios::binary | std::ios::trunc);
      if (!file_) throw InputError(cat(path, ": cannot write: ", std::strerror(errno)));
    }
  }
  void write(const std::string& s) { stream().write(s.data(), static_cast<std::streamsize>(s.size())); }
  void flush() {
    stream().flush();
    if (!stream()) throw InputError(cat(path_ == "-" ? "<stdout>" : path_, ": write error"));
  }

 private:
  std::ostream& stream() { return path_ == "-" ? std::cout : file_; }
  std::string path_;
  std::ofstream file_;
};

// Warns on stderr about each input line longer than --max-input-length pieces.
void warn_if_cut(const LineReader& reader, size_t pieces, int max_input_length) {
  if (max_input_length > 0 && pieces > static_cast<size_t>(max_input_length))
    std::cerr << "nmt: warning: " << reader.display_name() << ":" << reader.line_number() << ": " << pieces
              << " pieces, translating only the first " << max_input_length << " (--max-input-length)\n";
}

// "translated N lines in S s" on one terminal line, rewritten as lines are done.
class ProgressLine {
 public:
  void report(int64_t lines, bool last) const {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\rtranslated %lld lines in %.1f s (%.1f lines/s)%s", static_cast<long long>(lines), s,
                 s > 0 ? lines / s : 0.0, last ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// How each input line's result is written.
struct OutputFormat {
  bool nbest = false;
  AlignmentFormat alignment = AlignmentFormat::None;
  TextFormat text = TextFormat::Decoded;
};

OutputFormat output_format(const po::variables_map& vm) {
  OutputFormat f;
  f.nbest = get<bool>(vm, "n-best");
  f.alignment = parse_alignment_format(get<std::string>(vm, "alignment"));
  f.text = get<bool>(vm, "no-spm-decode") ? TextFormat::Pieces : TextFormat::Decoded;
  return f;
}

// The library's options as given on the command line, with the output format's needs.
TranslateOptions translate_options(const po::variables_map& vm, const OutputFormat& format) {
  TranslateOptions opt = translation_options(vm);
  SearchOptions& so = opt.search;
  // One hypothesis is enough without n-best lists; a given --n-best-size is checked anyway.
  const int n_best_default = format.nbest ? so.beam_size : 1;
  so.n_best = vm.count("n-best-size") ? get<int>(vm, "n-best-size") : n_best_default;
  so.keep_alignment = format.alignment != AlignmentFormat::None;
  return opt;
}

// The output lines of one group of results, the first being input line `first_line`.
std::string format_group(const std::vector<Translation>& results, int64_t first_line, const Vocab& trg_vocab,
                         const OutputFormat& f) {
  std::string text;
  for (size_t i = 0; i < results.size(); ++i) {
    if (f.nbest) {
      text += format_nbest(first_line + static_cast<int64_t>(i), results[i].hypotheses, trg_vocab, f.alignment, f.text);
    } else {
      text += format_best(results[i].hypotheses, trg_vocab, f.alignment, f.text);
      text += '\n';
    }
  }
  return text;
}

// Reads, translates and writes `maxi_batch` lines at a time, so that a pipe is answered
// group by group; `lines_done` counts the lines written.
void translate_groups(LineReader& reader, Output& out, const LoadedEnsemble& loaded, const TranslateOptions& opt,
                      const OutputFormat& format, int maxi_batch, int64_t& lines_done) {
  std::vector<MemberSources> group;
  std::string line;
  bool more = true;
  while (more) {
    group.clear();
    while (static_cast<int>(group.size()) < maxi_batch && (more = reader.next(line))) {
      group.push_back(loaded.encode_source(line));
      size_t pieces = 0;
      for (const auto& ids : group.back()) pieces = std::max(pieces, ids.size());
      warn_if_cut(reader, pieces, opt.max_input_length);
    }
    if (group.empty()) break;
    const std::vector<Translation> results = translate_ids(*loaded.ensemble, group, opt);
    out.write(format_group(results, lines_done, loaded.trg_vocab(), format));
    out.flush();
    lines_done += static_cast<int64_t>(group.size());
  }
}

}  // namespace

int translate_command(const Args& args) {
  const auto parsed = parse(translate_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const OutputFormat format = output_format(vm);
  TranslateOptions opt = translate_options(vm, format);
  const auto model_paths = get<std::vector<std::string>>(vm, "model");
  const auto weights = vm.count("weights") ? get<std::vector<float>>(vm, "weights") : std::vector<float>();
  opt.validate();  // before the models are loaded: a bad value costs nothing
  if (!weights.empty()) check_weights(weights, model_paths.size());
  const std::string input = get<std::string>(vm, "input");
  // Typed at a terminal: answer every line at once unless told otherwise.
  const bool interactive = input == "-" && ::isatty(STDIN_FILENO) && !has(vm, "maxi-batch");
  const int maxi_batch = interactive ? 1 : get<int>(vm, "maxi-batch");
  if (maxi_batch < 1) throw bad(cat("--maxi-batch must be at least 1, got ", maxi_batch));
  const std::unique_ptr<WorkerPool> workers = set_up_threads(vm, "translate");
  opt.workers = workers.get();

  const LoadedEnsemble loaded = load_fusion_ensemble(model_paths, weights);
  Shortlist shortlist;
  if (has(vm, "shortlist")) {
    shortlist =
        Shortlist::load_for(get<std::string>(vm, "shortlist"), loaded.src_vocab().size(), loaded.trg_vocab().size());
    opt.search.shortlist = &shortlist;
  }
  try {
    check_ensemble_supports(*loaded.ensemble, opt.search);
  } catch (const InputError& e) {
    throw InputError(cat("--alignment: ", loaded.paths[loaded.ensemble->primary()], ": ", e.what()));
  }

  LineReader reader(input);
  Output out(get<std::string>(vm, "output"));
  // Progress on a terminal, when the input is a file (stdin may be that terminal).
  const bool show_progress = input != "-" && ::isatty(STDERR_FILENO);
  const ProgressLine progress;
  int64_t lines_done = 0;
  if (show_progress)
    opt.progress = [&](size_t done) { progress.report(lines_done + static_cast<int64_t>(done), false); };
  translate_groups(reader, out, loaded, opt, format, maxi_batch, lines_done);
  if (show_progress) progress.report(lines_done, true);
  return 0;
}

}  // namespace nmt::cli
