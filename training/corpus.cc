#include "training/corpus.h"

#include "core/error.h"
#include "tokenization/corpus.h"

namespace nmt {

ParallelText read_parallel_text(const std::string& src_path, const std::string& trg_path) {
  ParallelText t{src_path, trg_path, read_lines(src_path), read_lines(trg_path)};
  if (t.src.size() != t.trg.size())
    throw InputError(cat(src_path, " has ", t.src.size(), " lines but ", trg_path, " has ", t.trg.size(),
                         ": a parallel corpus needs the same number of lines in both"));
  return t;
}

ParallelCorpus encode_parallel_corpus(const ParallelText& text, const Vocab& src_vocab, const Vocab& trg_vocab,
                                      int max_length, bool skip_empty) {
  const std::vector<std::string>& src_lines = text.src;
  const std::vector<std::string>& trg_lines = text.trg;
  const std::string& src_path = text.src_path;
  const std::string& trg_path = text.trg_path;
  ParallelCorpus c;
  for (size_t i = 0; i < src_lines.size(); ++i) {
    std::vector<int32_t> s = src_vocab.encode(src_lines[i]);
    std::vector<int32_t> t = trg_vocab.encode(trg_lines[i]);
    if (skip_empty && (s.empty() || t.empty())) {
      ++c.dropped_empty;
      continue;
    }
    if (max_length > 0 && (static_cast<int>(s.size()) > max_length || static_cast<int>(t.size()) > max_length)) {
      ++c.dropped_long;
      continue;
    }
    s.push_back(Vocab::kEos);
    c.src.push_back(std::move(s));
    c.trg.push_back(std::move(t));
    c.lines.push_back(static_cast<int64_t>(i));
  }
  if (c.src.empty())
    throw InputError(cat(src_path, " / ", trg_path, ": no sentence pairs left (", src_lines.size(), " lines read, ",
                         c.dropped_empty, " with an empty side, ", c.dropped_long, " longer than ", max_length,
                         " pieces)"));
  return c;
}

namespace {

// One side of the corpus with sampled segmentations; `eos` appends </s> (the source side).
void sample_side(const std::vector<std::string>& text_lines, const std::vector<int64_t>& lines, const Vocab& vocab,
                 float alpha, int max_length, uint64_t seed, bool eos, std::vector<std::vector<int32_t>>* side) {
  std::vector<std::string> kept;
  kept.reserve(lines.size());
  for (int64_t l : lines) kept.push_back(text_lines[static_cast<size_t>(l)]);
  std::vector<std::vector<int32_t>> sampled = vocab.sample(kept, alpha, seed);
  for (size_t i = 0; i < sampled.size(); ++i) {
    if (max_length > 0 && static_cast<int>(sampled[i].size()) > max_length) continue;
    if (eos) sampled[i].push_back(Vocab::kEos);
    (*side)[i] = std::move(sampled[i]);
  }
}

}  // namespace

ParallelCorpus sample_parallel_corpus(const ParallelText& text, const ParallelCorpus& corpus, const Vocab& src_vocab,
                                      const Vocab& trg_vocab, const std::vector<float>& alphas, int max_length,
                                      uint64_t seed, int64_t epoch) {
  ParallelCorpus c = corpus;
  const uint64_t base = (seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch)) * 2;
  if (alphas.at(0) > 0) sample_side(text.src, c.lines, src_vocab, alphas[0], max_length, base, true, &c.src);
  if (alphas.at(1) > 0) sample_side(text.trg, c.lines, trg_vocab, alphas[1], max_length, base + 1, false, &c.trg);
  return c;
}

ParallelCorpus load_parallel_corpus(const std::string& src_path, const std::string& trg_path, const Vocab& src_vocab,
                                    const Vocab& trg_vocab, int max_length, bool skip_empty) {
  return encode_parallel_corpus(read_parallel_text(src_path, trg_path), src_vocab, trg_vocab, max_length, skip_empty);
}

}  // namespace nmt
