// Subword vocabularies: training a joint SentencePiece model (unigram or BPE) on corpus
// files, and the Vocab that encodes text to piece ids and decodes them back.
//
// Every vocabulary has the same special ids: pad 0 "<pad>", unk 1 "<unk>", bos 2 "<s>",
// eos 3 "</s>". Text is normalised with SentencePiece's nmt_nfkc rules (NFKC, extra
// whitespace removed), so decode(encode(x)) == x holds for normalised x.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nmt {

// Named in messages by the keys of nmt vocab's options: train-sets (inputs), output
// (model_path), vocab-size, model-type, character-coverage, max-sentences.
struct VocabTrainOptions {
  std::vector<std::string> inputs;              // corpus files (plain or gzip, "-" = stdin), read jointly
  std::string model_path;                       // the .spm file to write (atomically)
  int vocab_size = 8000;                        // >= 8
  std::string model_type = "unigram";           // "unigram" or "bpe"
  uint64_t seed = 1;                            // picks the sample when the corpus has more than max_sentences
  float character_coverage = 1.0f;              // in [0.98, 1]
  int64_t max_sentences = 2000000;              // a uniform sample of this many non-empty lines is trained on
  std::function<void(const std::string&)> log;  // progress messages (none when empty)

  // Throws OptionError naming the first option that breaks its rule. train_vocab calls it.
  void validate() const;
};

struct VocabTrainStats {
  struct File {
    std::string path;
    int64_t lines = 0, empty_lines = 0;
  };
  std::vector<File> files;
  int64_t sentences = 0;       // non-empty lines read in all files
  int64_t sentences_used = 0;  // after sampling down to max_sentences
  double read_seconds = 0, train_seconds = 0;
  size_t model_bytes = 0;
};

// Trains the vocabulary and writes options.model_path. Throws InputError for bad options,
// unreadable or invalid input (with file:line) and a vocabulary too big for the corpus.
// Two runs with the same options write byte-identical files.
VocabTrainStats train_vocab(const VocabTrainOptions& options);

// A trained SentencePiece model. Immutable and cheap to copy (shared); safe to use from
// several threads at once.
class Vocab {
 public:
  static constexpr int32_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;

  // An empty vocabulary (size 0) to be assigned later; encode/decode/pieces throw Error.
  Vocab() = default;
  bool empty() const { return impl_ == nullptr; }

  // Throw InputError naming the file (or `name`) when it is missing or not a model with
  // the special ids above.
  static Vocab load(const std::string& path);
  static Vocab from_bytes(const std::string& serialized, const std::string& name = "<embedded vocabulary>");

  // The .spm bytes, so a model file can embed its vocabulary.
  const std::string& serialized() const;
  int size() const;

  // Piece ids of `text`, without bos/eos; empty for an empty (or all-space) text.
  std::vector<int32_t> encode(const std::string& text) const;
  // Subword regularisation: one segmentation of each line drawn at random (Kudo 2018 for a
  // unigram model: from all segmentations, their probabilities raised to `alpha` in (0, 1];
  // BPE-dropout for a BPE model: each merge skipped with probability `alpha`). Every sample
  // decodes to its line. A pure function of (lines, alpha, seed), whatever ran before.
  std::vector<std::vector<int32_t>> sample(const std::vector<std::string>& lines, float alpha, uint64_t seed) const;
  // The text of `ids`, skipping pad/bos/eos; unk decodes to " \u2047 ".
  std::string decode(const std::vector<int32_t>& ids) const;
  // The piece string of every id ("\u2581" marks a preceding space), e.g. for attention maps.
  std::vector<std::string> pieces(const std::vector<int32_t>& ids) const;

 private:
  struct Impl;
  explicit Vocab(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const Impl& impl() const;  // throws Error when empty
  void check_ids(const std::vector<int32_t>& ids) const;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nmt
