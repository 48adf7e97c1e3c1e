// Which source sentence each decoder-state row decodes, for the state tensors that
// depend on that alone (encoder states, attention keys and values, source masks) and
// not on the hypothesis.
//
// Beam search reorders, duplicates and drops hypotheses at every step
// (DecoderState::select), yet the sentence of each row changes only when a sentence
// gains or loses rows. Such tensors are therefore kept once per sentence with rows, never
// per row, and the rows query them in groups (QueryGroups, below):
// a sentence's hypotheses read its encoder states once, together. They are taken again
// only when this map changes.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

// Decoding rows grouped by the memory (source sentence) they attend over: row r is query
// slot[r] of group group[r]; `groups` memories, at most `slots` rows each. Beam search has
// up to a beam's worth of rows per sentence: grouped, their cross-attention reads each
// sentence's keys and values once, as one [slots, dh] x [dh, S] product per head, where
// row by row it read them once per row (from copies, one per row).
struct QueryGroups {
  std::vector<int32_t> group, slot;  // per row
  int64_t groups = 0, slots = 0;
  // True when row r is group r, slot 0, for every row.
  bool rows_in_order() const;
  // Rows [R, ..., D] (D floats each after the first axis) -> [groups, slots, D]; empty slots
  // zero. When rows_in_order(), the same storage, reshaped.
  Tensor to_groups(const Tensor& rows) const;
  // Grouped [groups, slots, ..., D] -> rows [R, D]: each row's slot. When rows_in_order(),
  // the same storage, reshaped.
  Tensor to_rows(const Tensor& grouped) const;
};

// Rows `rows` (indices into dimension 0) of t, in that order; t itself when empty. Error
// naming the row for an index out of range.
Tensor take_rows(const Tensor& t, const std::vector<int32_t>& rows);

class SentenceRows {
 public:
  // Row i decodes sentence i.
  explicit SentenceRows(int64_t sentences);

  // Follows DecoderState::select(rows). Returns true when the sentence of some row
  // changed (the per-group tensors must be taken again).
  bool select(const std::vector<int32_t>& rows);

  // The sentence of each row.
  const std::vector<int32_t>& sentences() const { return sentence_; }

  // The rows grouped by sentence: the groups are the sentences that have rows, in order of
  // first appearance.
  const QueryGroups& groups() const { return groups_; }

  // Of per-sentence values [sentences, ...], those of the groups' sentences [groups, ...]
  // (along dimension 0): the input itself while the groups are all sentences, in order.
  Var of_groups(const Var& per_sentence) const;
  Tensor of_groups(const Tensor& per_sentence) const;
  std::vector<int> of_groups(const std::vector<int>& per_sentence) const;

 private:
  void regroup();

  std::vector<int32_t> sentence_;
  int64_t sentences_;
  QueryGroups groups_;
  std::vector<int32_t> group_sentence_;  // the sentence of each group
  bool all_ = true;                      // group_sentence_ is 0, 1, ..., sentences_ - 1
};

}  // namespace nmt
