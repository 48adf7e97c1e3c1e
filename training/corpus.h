// A parallel corpus in memory, as subword ids: two files with one sentence a line,
// line i of one the translation of line i of the other.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenization/vocab.h"

namespace nmt {

struct ParallelCorpus {
  std::vector<std::vector<int32_t>> src;  // each ends with </s>
  std::vector<std::vector<int32_t>> trg;  // without <s> and </s> (TargetBatch adds them)
  std::vector<int64_t> lines;             // the 0-based line of each pair in the files
  int64_t dropped_long = 0;               // pairs longer than max_length (either side)
  int64_t dropped_empty = 0;              // pairs with an empty side
  size_t size() const { return src.size(); }
};

// The raw lines of both files, checked to be parallel: read before any vocabulary is
// trained on them, so that mismatched files fail first and leave nothing behind.
struct ParallelText {
  std::string src_path, trg_path;
  std::vector<std::string> src, trg;
};
// Throws InputError when a file is missing, has invalid UTF-8 (file:line), or the two have
// different numbers of lines (both counts named).
ParallelText read_parallel_text(const std::string& src_path, const std::string& trg_path);

// Encodes read text; throws InputError when nothing is left after filtering.
ParallelCorpus encode_parallel_corpus(const ParallelText& text, const Vocab& src_vocab, const Vocab& trg_vocab,
                                      int max_length, bool skip_empty);

// Subword regularisation (--sentencepiece-alphas): `corpus` (encode_parallel_corpus of
// `text`) with each side whose alpha is > 0 re-encoded from segmentations sampled line by
// line (Vocab::sample), a pure function of (seed, epoch) so that training resumes exactly.
// A side whose sample is longer than max_length keeps its most probable encoding, so the
// length bound holds in every epoch.
ParallelCorpus sample_parallel_corpus(const ParallelText& text, const ParallelCorpus& corpus, const Vocab& src_vocab,
                                      const Vocab& trg_vocab, const std::vector<float>& alphas, int max_length,
                                      uint64_t seed, int64_t epoch);

// read_parallel_text + encode_parallel_corpus. Reads and encodes both files. Throws InputError when a file is missing,
// has invalid UTF-8 (file:line), or the two have different numbers of lines (both counts named), or when nothing is
// left after filtering. max_length <= 0: no length filter.
ParallelCorpus load_parallel_corpus(const std::string& src_path, const std::string& trg_path, const Vocab& src_vocab,
                                    const Vocab& trg_vocab, int max_length, bool skip_empty);

}  // namespace nmt
