// Lexical shortlists for decoding (Marian's --shortlist): the target pieces a batch of source
// sentences may plausibly produce, so that each decoding step scores only those rows of the
// output layer (and its softmax runs over them alone) instead of the whole vocabulary.
//
// A shortlist holds the `first` most frequent target pieces of a training corpus and, for
// every source piece, its `best` translations by the lexical probabilities p(t | s) of IBM
// Model 1 (with a NULL source word) trained by EM on that corpus. The vocabulary of a batch is
// the union of the first list, the best lists of every source piece in it, and </s>.
// Probabilities are renormalised over that vocabulary, so scores differ slightly from a full
// search (as in Marian); --shortlist is an option, off by default.
//
// File (text): a header line `nmt-shortlist 1 SOURCE_VOCAB TARGET_VOCAB`, a line
// `first ID...`, then one line `SOURCE_ID: ID...` per source piece with a list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "encoder/encoder.h"

namespace nmt {

// Named in messages by the keys of nmt shortlist's options: first, best, iterations.
struct ShortlistOptions {
  int first = 100;     // most frequent target pieces, always kept
  int best = 50;       // translations kept per source piece
  int iterations = 5;  // EM iterations of IBM Model 1

  // Throws OptionError naming the first option that breaks its rule. build() calls it.
  void validate() const;
};

class Shortlist {
 public:
  Shortlist() = default;
  // From parallel sentences of piece ids; <pad>, <s> and </s> in a source are ignored, and
  // pairs with no piece on a side only count towards the first list.
  static Shortlist build(const std::vector<std::vector<int32_t>>& sources,
                         const std::vector<std::vector<int32_t>>& targets, int source_vocab, int target_vocab,
                         const ShortlistOptions& options);
  // Throws InputError naming the file and line on a missing or malformed file.
  static Shortlist load(const std::string& path);
  // load(), and an InputError unless it was made for vocabularies of these sizes (a model's).
  static Shortlist load_for(const std::string& path, int source_vocab, int target_vocab);
  // Written to a temporary file and renamed.
  void save(const std::string& path) const;

  int source_vocab() const { return source_vocab_; }
  int target_vocab() const { return target_vocab_; }
  const std::vector<int32_t>& first() const { return first_; }
  const std::vector<int32_t>& best(int32_t source_id) const;

  // The target ids the sentences of `src` may produce, ascending: the first list, the best
  // lists of their pieces, and </s>; <unk> only when allow_unk; never <pad> or <s>.
  std::vector<int32_t> vocabulary(const SourceBatch& src, bool allow_unk) const;

 private:
  int source_vocab_ = 0, target_vocab_ = 0;
  std::vector<int32_t> first_;
  std::vector<std::vector<int32_t>> best_;  // per source id
};

}  // namespace nmt
