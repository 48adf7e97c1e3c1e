#include "decoder/sentence_rows.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "ops/shape_ops.h"

namespace nmt {

bool QueryGroups::rows_in_order() const {
  if (slots > 1 || groups != static_cast<int64_t>(group.size())) return false;
  for (size_t r = 0; r < group.size(); ++r)
    if (group[r] != static_cast<int32_t>(r)) return false;
  return true;
}

Tensor QueryGroups::to_groups(const Tensor& rows) const {
  const int64_t R = static_cast<int64_t>(group.size());
  if (rows.rank() < 1 || rows.dim(0) != R) throw Error(cat("QueryGroups: ", R, " rows, got ", shape_str(rows.shape())));
  const int64_t D = R > 0 ? rows.numel() / R : 0;
  if (rows_in_order()) return rows.reshape({groups, 1, D});
  Tensor out = Tensor::zeros({groups, slots, D});
  for (int64_t r = 0; r < R; ++r) std::copy_n(rows.data() + r * D, D, out.data() + (group[r] * slots + slot[r]) * D);
  return out;
}

Tensor QueryGroups::to_rows(const Tensor& grouped) const {
  const int64_t R = static_cast<int64_t>(group.size());
  if (grouped.rank() < 2 || grouped.dim(0) != groups || grouped.dim(1) != slots)
    throw Error(cat("QueryGroups: ", groups, " groups of ", slots, " slots, got ", shape_str(grouped.shape())));
  const int64_t D = groups * slots > 0 ? grouped.numel() / (groups * slots) : 0;
  if (rows_in_order()) return grouped.reshape({R, D});
  Tensor out({R, D});
  for (int64_t r = 0; r < R; ++r) std::copy_n(grouped.data() + (group[r] * slots + slot[r]) * D, D, out.data() + r * D);
  return out;
}

Tensor take_rows(const Tensor& t, const std::vector<int32_t>& rows) {
  if (t.empty()) return t;
  Shape shape = t.shape();
  const int64_t row = t.numel() / shape[0];
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor out(shape);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= t.dim(0)) throw Error(cat("take_rows: row ", rows[i], " out of ", t.dim(0)));
    std::copy_n(t.data() + rows[i] * row, row, out.data() + static_cast<int64_t>(i) * row);
  }
  return out;
}

SentenceRows::SentenceRows(int64_t sentences) : sentence_(static_cast<size_t>(sentences)), sentences_(sentences) {
  std::iota(sentence_.begin(), sentence_.end(), 0);
  regroup();
}

bool SentenceRows::select(const std::vector<int32_t>& rows) {
  std::vector<int32_t> next(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= static_cast<int32_t>(sentence_.size()))
      throw Error(cat("DecoderState::select: row ", rows[i], " out of ", sentence_.size()));
    next[i] = sentence_[rows[i]];
  }
  if (next == sentence_) return false;
  sentence_ = std::move(next);
  regroup();
  return true;
}

void SentenceRows::regroup() {
  QueryGroups g;
  std::vector<int32_t> group_of(static_cast<size_t>(sentences_), -1), used;
  group_sentence_.clear();
  for (int32_t s : sentence_) {
    if (group_of[s] < 0) {
      group_of[s] = static_cast<int32_t>(group_sentence_.size());
      group_sentence_.push_back(s);
      used.push_back(0);
    }
    const int32_t gi = group_of[s];
    g.group.push_back(gi);
    g.slot.push_back(used[gi]++);
    g.slots = std::max<int64_t>(g.slots, used[gi]);
  }
  g.groups = static_cast<int64_t>(group_sentence_.size());
  all_ = g.groups == sentences_;
  groups_ = std::move(g);
  for (size_t i = 0; all_ && i < group_sentence_.size(); ++i) all_ = group_sentence_[i] == static_cast<int32_t>(i);
}

Var SentenceRows::of_groups(const Var& per_sentence) const {
  if (!per_sentence || all_) return per_sentence;
  return index_select(per_sentence, 0, group_sentence_);
}

Tensor SentenceRows::of_groups(const Tensor& per_sentence) const {
  return all_ ? per_sentence : take_rows(per_sentence, group_sentence_);
}

std::vector<int> SentenceRows::of_groups(const std::vector<int>& per_sentence) const {
  if (all_) return per_sentence;
  std::vector<int> out;
  out.reserve(group_sentence_.size());
  for (int32_t s : group_sentence_) out.push_back(per_sentence.at(static_cast<size_t>(s)));
  return out;
}

}  // namespace nmt
