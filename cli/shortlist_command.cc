// nmt shortlist: builds a lexical shortlist (translate/shortlist.h) from a parallel corpus, for
// nmt translate --shortlist.
#include <chrono>
#include <iomanip>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/error.h"
#include "model/model.h"
#include "tokenization/vocab.h"
#include "training/corpus.h"
#include "translate/shortlist.h"

namespace nmt::cli {
namespace {

CommandSpec shortlist_spec() {
  CommandSpec spec;
  spec.name = "shortlist";
  spec.usage = "nmt shortlist --train-sets SRC TRG (-m MODEL | --vocabs SRC.spm TRG.spm) -o FILE [options]";
  spec.summary =
      "Builds a lexical shortlist for nmt translate --shortlist: the --first most frequent target pieces\n"
      "of the corpus, and for every source piece its --best translations by IBM Model 1 probabilities\n"
      "(EM on the corpus). The vocabularies are the model's (-m) or given (--vocabs).";
  po::options_description g("Shortlist options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("train-sets,t", po::value<std::vector<std::string>>()->multitoken(), "SRC TRG parallel corpus (plain or gzip)")
      ("model,m", po::value<std::string>(), "take the vocabularies from this model file")
      ("vocabs,v", po::value<std::vector<std::string>>()->multitoken(), "SRC TRG SentencePiece models")
      ("output,o", po::value<std::string>()->required(), "the shortlist file to write")
      ("first", po::value<int>()->default_value(100), "most frequent target pieces always kept")
      ("best", po::value<int>()->default_value(50), "translations kept per source piece")
      ("iterations", po::value<int>()->default_value(5), "EM iterations");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("shortlist: ", what, " (see nmt shortlist --help)")); }

}  // namespace

int shortlist_command(const Args& args) {
  const auto parsed = parse(shortlist_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  const auto sets =
      vm.count("train-sets") ? get<std::vector<std::string>>(vm, "train-sets") : std::vector<std::string>{};
  if (sets.size() != 2) throw bad(cat("--train-sets takes two files, SRC TRG; got ", sets.size()));
  if (has(vm, "model") == has(vm, "vocabs")) throw bad("give either -m MODEL or --vocabs SRC.spm TRG.spm");
  ShortlistOptions o;
  o.first = get<int>(vm, "first");
  o.best = get<int>(vm, "best");
  o.iterations = get<int>(vm, "iterations");
  o.validate();  // before the corpus is read: a bad value costs nothing

  std::shared_ptr<Vocab> src_vocab, trg_vocab;
  if (has(vm, "model")) {
    LoadedModel loaded = load_model(get<std::string>(vm, "model"));
    src_vocab = loaded.src_vocab;
    trg_vocab = loaded.trg_vocab;
  } else {
    const auto v = get<std::vector<std::string>>(vm, "vocabs");
    if (v.size() != 2) throw bad(cat("--vocabs takes two files, SRC TRG; got ", v.size()));
    src_vocab = std::make_shared<Vocab>(Vocab::load(v[0]));
    trg_vocab = std::make_shared<Vocab>(Vocab::load(v[1]));
  }
  const auto start = std::chrono::steady_clock::now();
  // Every pair, empty sides included (they count towards the most frequent pieces).
  const ParallelCorpus c = load_parallel_corpus(sets[0], sets[1], *src_vocab, *trg_vocab, 0, /*skip_empty=*/false);
  const Shortlist list = Shortlist::build(c.src, c.trg, src_vocab->size(), trg_vocab->size(), o);
  const std::string out = get<std::string>(vm, "output");
  list.save(out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "nmt shortlist: wrote " << out << " from " << c.size() << " pairs (first " << o.first << ", best "
            << o.best << ", " << o.iterations << " EM iterations) in " << std::fixed << std::setprecision(1) << seconds
            << " s" << std::endl;
  return 0;
}

}  // namespace nmt::cli
