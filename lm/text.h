// Text as a language model reads it (lm/language_model.h): one file's lines as piece ids,
// and what sentence and stream mode make of them.
//
// Stream mode (Zaremba et al. 2014, as the PyTorch peer): the lines one after the other,
// each followed by </s>, led by one </s>: inputs </s> a1 .. an </s> b1 .., targets
// a1 .. an </s> b1 .. </s>, so that every piece and every line's </s> is predicted once.
// Training reads the stream as R rows side by side: R contiguous segments of S / R positions
// (the last S mod R positions of the stream are left out), cut into windows of bptt
// positions; row r of window w + 1 continues row r of window w, and a state carried from one
// window to the next continues its segment. Validation and scoring read the whole stream as
// one row.
//
// Words (for perplexity per word, as the peer counts them): the whitespace-separated words
// of each line plus its </s>.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "tokenization/vocab.h"

namespace nmt {

struct LmText {
  std::string path;                         // as given (for messages)
  std::vector<std::vector<int32_t>> lines;  // piece ids, without <s> and </s>
  int64_t words = 0;                        // whitespace-separated words of all lines + one </s> a line
  int64_t pieces() const;                   // pieces of all lines + one </s> a line: the positions predicted
};

// Lines of a file (plain or gzip, "-" stdin) encoded with `vocab`. Throws InputError naming
// the file when it is missing or empty, and file:line for invalid UTF-8.
LmText read_lm_text(const std::string& path, const Vocab& vocab);
// The same for lines already read.
LmText encode_lm_text(const std::string& path, const std::vector<std::string>& lines, const Vocab& vocab);

// The whole text as one stream: target[i] is predicted after reading input(i), the piece
// before it. Only the targets are stored (4 bytes a position): a training text is held for
// the whole run.
struct LmStream {
  std::vector<int32_t> target;
  int32_t input(int64_t i) const { return i ? target[i - 1] : Vocab::kEos; }  // </s>: as if a line had ended
  int64_t size() const { return static_cast<int64_t>(target.size()); }
};
LmStream make_stream(const std::vector<std::vector<int32_t>>& lines);

// A stream cut into `rows` segments read side by side in windows of `bptt` positions.
class StreamWindows {
 public:
  // rows is lowered to the stream's length when it has fewer positions.
  StreamWindows(const LmStream& stream, int64_t rows, int64_t bptt);
  int64_t rows() const { return rows_; }
  int64_t windows() const { return windows_; }
  int64_t left_out() const { return stream_.size() - rows_ * length_; }  // positions no row reads
  // Window w: input and output [rows, T] batch-major, T = window_length(w): bptt except in the
  // last window.
  TargetBatch window(int64_t w) const;
  int64_t window_length(int64_t w) const { return std::min(bptt_, length_ - w * bptt_); }
  // The stream position of (row, column t) of window w.
  int64_t position(int64_t w, int64_t row, int64_t t) const { return row * length_ + w * bptt_ + t; }

 private:
  const LmStream& stream_;
  int64_t rows_, bptt_, length_, windows_;  // length_: positions a row reads
};

// Sentence mode: lines `rows` of `lines` as one batch (<s> y, y </s>), as TargetBatch::from.
TargetBatch sentence_batch(const std::vector<std::vector<int32_t>>& lines, const std::vector<int32_t>& rows);

}  // namespace nmt
