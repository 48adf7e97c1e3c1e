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
  }
  if (c.src.empty())
    throw InputError(cat(src_path, " / ", trg_path, ": no sentence pairs left (", src_lines.size(), " lines read, ",
                         c.dropped_empty, " with an empty side, ", c.dropped_long, " longer than ", max_length,
                         " pieces)"));
  return c;
}

ParallelCorpus load_parallel_corpus(const std::string& src_path, const std::string& trg_path, const Vocab& src_vocab,
                                    const Vocab& trg_vocab, int max_length, bool skip_empty) {
  return encode_parallel_corpus(read_parallel_text(src_path, trg_path), src_vocab, trg_vocab, max_length, skip_empty);
}

}  // namespace nmt
