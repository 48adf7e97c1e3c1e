#include "lm/text.h"

#include <sstream>

#include "core/error.h"
#include "tokenization/corpus.h"

namespace nmt {
namespace {

int64_t count_words(const std::string& line) {
  std::istringstream is(line);
  int64_t n = 0;
  for (std::string w; is >> w;) ++n;
  return n;
}

}  // namespace

int64_t LmText::pieces() const {
  int64_t n = 0;
  for (const auto& l : lines) n += static_cast<int64_t>(l.size()) + 1;
  return n;
}

LmText encode_lm_text(const std::string& path, const std::vector<std::string>& lines, const Vocab& vocab) {
  if (lines.empty()) throw InputError(cat(path == "-" ? "<stdin>" : path, ": the file is empty: no lines of text"));
  LmText t;
  t.path = path;
  t.lines.reserve(lines.size());
  for (const std::string& l : lines) {
    t.lines.push_back(vocab.encode(l));
    t.words += count_words(l) + 1;
  }
  return t;
}

LmText read_lm_text(const std::string& path, const Vocab& vocab) {
  return encode_lm_text(path, read_lines(path), vocab);
}

LmStream make_stream(const std::vector<std::vector<int32_t>>& lines) {
  LmStream s;
  size_t size = 0;
  for (const auto& line : lines) size += line.size() + 1;
  s.target.reserve(size);
  for (const auto& line : lines) {
    s.target.insert(s.target.end(), line.begin(), line.end());
    s.target.push_back(Vocab::kEos);
  }
  return s;
}

StreamWindows::StreamWindows(const LmStream& stream, int64_t rows, int64_t bptt)
    : stream_(stream), rows_(std::min(rows, stream.size())), bptt_(bptt) {
  if (rows < 1 || bptt < 1 || stream.size() < 1)
    throw Error(cat("StreamWindows: ", rows, " rows, bptt ", bptt, ", a stream of ", stream.size()));
  length_ = stream.size() / rows_;
  windows_ = (length_ + bptt_ - 1) / bptt_;
}

TargetBatch StreamWindows::window(int64_t w) const {
  if (w < 0 || w >= windows_) throw Error(cat("StreamWindows: window ", w, " of ", windows_));
  TargetBatch b;
  b.batch = rows_;
  b.length = window_length(w);
  b.input.resize(b.batch * b.length);
  b.output.resize(b.batch * b.length);
  for (int64_t r = 0; r < rows_; ++r)
    for (int64_t t = 0; t < b.length; ++t) {
      const int64_t p = position(w, r, t);
      b.input[r * b.length + t] = stream_.input(p);
      b.output[r * b.length + t] = stream_.target[p];
    }
  b.lengths.assign(rows_, static_cast<int>(b.length));
  b.tokens = b.batch * b.length;
  return b;
}

TargetBatch sentence_batch(const std::vector<std::vector<int32_t>>& lines, const std::vector<int32_t>& rows) {
  std::vector<std::vector<int32_t>> s;
  s.reserve(rows.size());
  for (int32_t i : rows) s.push_back(lines[i]);
  return TargetBatch::from(s);
}

}  // namespace nmt
