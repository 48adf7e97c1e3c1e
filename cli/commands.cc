#include "cli/commands.h"

#include <iostream>
#include <string>

#include "cli/subcommands.h"
#include "core/error.h"

namespace nmt::cli {

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"train", "train a translation model on a parallel corpus, or a language model on a text", train_command},
      {"bench", "measure training or translation speed and memory", bench_command},
      {"vocab", "train a SentencePiece vocabulary on corpus files", vocab_command},
      {"translate", "translate text with a model (greedy or beam search, n-best lists, alignments)", translate_command},
      {"shortlist", "build a lexical shortlist from a parallel corpus, for translate --shortlist", shortlist_command},
      {"score",
       "score target sentences given their sources with a model (forced decoding), or text with a language model",
       score_command},
      {"average", "average the parameters of models of one configuration (checkpoint averaging)", average_command},
      {"generate", "generate text with a language model (greedy, or sampled from all, the top k or the top p)",
       generate_command},
      {"lm-probe", "measure a language model's vanishing gradient and the context it uses, on a text",
       lm_probe_command},
      {"serve", "translate over HTTP: a JSON API, batching concurrent clients, and a page comparing the models",
       serve_command},
      {"eval", "score translations against references: BLEU and chrF (sacreBLEU-compatible)", eval_command},
  };
  return table;
}

namespace {

void print_help(std::ostream& os) {
  os << "nmt: neural machine translation on CPUs\n\n"
        "Usage: nmt SUBCOMMAND [options]    (nmt SUBCOMMAND --help for its options)\n\n"
        "Subcommands:\n";
  for (const auto& s : subcommands()) {
    std::string name = s.name;
    os << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << s.summary << "\n";
  }
}

}  // namespace

int run(int argc, char** argv) {
  try {
    if (argc < 2) {
      print_help(std::cerr);
      return 2;
    }
    const std::string sub = argv[1];
    if (sub == "--help" || sub == "-h" || sub == "help") {
      print_help(std::cout);
      return 0;
    }
    if (sub == "--version") {
      std::cout << "nmt " NMT_VERSION "\n";
      return 0;
    }
    for (const auto& s : subcommands()) {
      if (sub != s.name) continue;
      try {
        return s.main(Args(argv + 2, argv + argc));
      } catch (const OptionError& e) {
        // Every option value a subcommand hands the library came from its command line
        // (or --config file), so a value the library refuses is a usage error.
        throw UsageError(cat(sub, ": ", e.what(), " (see nmt ", sub, " --help)"));
      }
    }
    throw UsageError(cat("unknown subcommand '", sub, "' (see nmt --help)"));
  } catch (const UsageError& e) {
    std::cerr << "nmt: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nmt: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace nmt::cli
