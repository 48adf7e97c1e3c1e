#include "decoder/sentence_rows.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/ops/shape_ops.h"

namespace nmt {

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
  identity_ = static_cast<int64_t>(sentence_.size()) == sentences_;
  for (size_t i = 0; i < sentence_.size() && identity_; ++i) identity_ = sentence_[i] == static_cast<int32_t>(i);
  return true;
}

Var SentenceRows::gather(const Var& per_sentence) const {
  if (!per_sentence || identity_) return per_sentence;
  return index_select(per_sentence, 0, sentence_);
}

Tensor SentenceRows::gather(const Tensor& per_sentence) const {
  if (per_sentence.empty() || identity_) return per_sentence;
  return take_rows(per_sentence, sentence_);
}

QueryGroups SentenceRows::groups(std::vector<int32_t>* live) const {
  QueryGroups g;
  std::vector<int32_t> group_of(static_cast<size_t>(sentences_), -1), used;
  live->clear();
  for (int32_t s : sentence_) {
    if (group_of[s] < 0) {
      group_of[s] = static_cast<int32_t>(live->size());
      live->push_back(s);
      used.push_back(0);
    }
    const int32_t gi = group_of[s];
    g.group.push_back(gi);
    g.slot.push_back(used[gi]++);
    g.slots = std::max<int64_t>(g.slots, used[gi]);
  }
  g.groups = static_cast<int64_t>(live->size());
  return g;
}

std::vector<int> SentenceRows::gather(const std::vector<int>& per_sentence) const {
  if (identity_) return per_sentence;
  std::vector<int> out;
  out.reserve(sentence_.size());
  for (int32_t s : sentence_) out.push_back(per_sentence.at(static_cast<size_t>(s)));
  return out;
}

}  // namespace nmt
