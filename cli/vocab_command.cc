// nmt vocab: trains a joint SentencePiece vocabulary on corpus files.
#include <iomanip>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/error.h"
#include "tokenization/vocab.h"

namespace nmt::cli {
namespace {

CommandSpec vocab_spec() {
  CommandSpec spec;
  spec.name = "vocab";
  spec.usage = "nmt vocab --train-sets FILE... -o VOCAB.spm [--vocab-size N] [options]";
  spec.summary =
      "Trains one SentencePiece vocabulary jointly on all the corpus files (one sentence a line,\n"
      "plain or gzip, '-' = stdin). Special ids: <pad> 0, <unk> 1, <s> 2, </s> 3. The same options\n"
      "and seed give a byte-identical file.";
  po::options_description g("Vocabulary options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("train-sets,t", po::value<std::vector<std::string>>()->multitoken(), "corpus files to train on, read jointly")
      ("output,o", po::value<std::string>()->required(), "the SentencePiece model to write (.spm)")
      ("vocab-size", po::value<int>()->default_value(8000), "number of pieces, special ones included (>= 8)")
      ("model-type", po::value<std::string>()->default_value("unigram"), "unigram or bpe")
      ("seed", po::value<uint64_t>()->default_value(1), "random seed (picks the sample of --max-sentences)")
      ("character-coverage", po::value<float>()->default_value(1.0f),
       "fraction of the characters the vocabulary covers, in [0.98, 1]; rarer ones become <unk>")
      ("max-sentences", po::value<int64_t>()->default_value(2000000),
       "train on a uniform sample of at most this many non-empty lines");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

VocabTrainOptions to_options(const po::variables_map& vm) {
  VocabTrainOptions o;
  if (vm.count("train-sets")) o.inputs = get<std::vector<std::string>>(vm, "train-sets");
  o.model_path = get<std::string>(vm, "output");
  o.vocab_size = get<int>(vm, "vocab-size");
  o.model_type = get<std::string>(vm, "model-type");
  o.seed = get<uint64_t>(vm, "seed");
  o.character_coverage = get<float>(vm, "character-coverage");
  o.max_sentences = get<int64_t>(vm, "max-sentences");
  return o;
}

}  // namespace

int vocab_command(const Args& args) {
  const auto vm = parse(vocab_spec(), args);
  if (!vm) return 0;
  VocabTrainOptions o = to_options(*vm);
  o.log = [](const std::string& msg) { std::cerr << "nmt vocab: " << msg << std::endl; };
  const VocabTrainStats s = train_vocab(o);
  std::cerr << "nmt vocab: wrote " << o.model_path << " (" << o.vocab_size << " pieces, " << s.model_bytes
            << " bytes) in " << std::fixed << std::setprecision(1) << s.read_seconds + s.train_seconds << " s (reading "
            << s.read_seconds << " s, training " << s.train_seconds << " s)" << std::endl;
  return 0;
}

}  // namespace nmt::cli
