// Which source sentence each decoder-state row decodes, for the state tensors that
// depend on that alone (encoder states, attention keys and values, source masks) and
// not on the hypothesis.
//
// Beam search reorders, duplicates and drops hypotheses at every step
// (DecoderState::select), yet the sentence of each row changes only when a sentence
// gains or loses rows. Such tensors are therefore kept once per sentence and gathered
// into row order only when this map changes: copying [rows, S, C] encoder states at
// every step cost more than a decoder step's attention.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"
#include "encoder/multi_head_attention.h"

namespace nmt {

// Rows `rows` (indices into dimension 0) of t, in that order; t itself when empty. Error
// naming the row for an index out of range.
Tensor take_rows(const Tensor& t, const std::vector<int32_t>& rows);

class SentenceRows {
 public:
  // Row i decodes sentence i.
  explicit SentenceRows(int64_t sentences);

  // Follows DecoderState::select(rows). Returns true when the sentence of some row
  // changed (the gathered tensors must be gathered again).
  bool select(const std::vector<int32_t>& rows);

  // The sentence of each row.
  const std::vector<int32_t>& sentences() const { return sentence_; }

  // The rows grouped by sentence (encoder/multi_head_attention.h): groups are the sentences
  // that have rows, in order of first appearance, listed in *live (original indices).
  QueryGroups groups(std::vector<int32_t>* live) const;

  // Rows of the per-sentence `per_sentence` [sentences, ...] in row order (dimension 0).
  Var gather(const Var& per_sentence) const;
  Tensor gather(const Tensor& per_sentence) const;
  std::vector<int> gather(const std::vector<int>& per_sentence) const;

 private:
  std::vector<int32_t> sentence_;
  int64_t sentences_;
  bool identity_ = true;  // sentence_ is 0, 1, ..., sentences_ - 1: gather returns its input
};

}  // namespace nmt
