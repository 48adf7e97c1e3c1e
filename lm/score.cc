#include "lm/score.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "ops/cross_entropy.h"

namespace nmt {
namespace {

// Batches of line indices, sorted by length, each at most mini_batch lines and max_rows
// positions (a longer line goes alone); longest first.
std::vector<std::vector<int32_t>> length_batches(const std::vector<std::vector<int32_t>>& lines,
                                                 const LmScoreOptions& o) {
  std::vector<int32_t> order(lines.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return lines[a].size() < lines[b].size(); });
  std::vector<std::vector<int32_t>> batches(1);
  for (int32_t i : order) {
    std::vector<int32_t>& batch = batches.back();
    const int64_t rows = static_cast<int64_t>(batch.size() + 1) * static_cast<int64_t>(lines[i].size() + 1);
    if (!batch.empty() && (static_cast<int>(batch.size()) >= o.mini_batch || rows > o.max_rows)) batches.emplace_back();
    batches.back().push_back(i);
  }
  std::reverse(batches.begin(), batches.end());
  return batches;
}

void sentence_log_probs(LanguageModel& model, const LmText& text, const LmScoreOptions& o, std::vector<float>& lp) {
  std::vector<int64_t> offset(text.lines.size() + 1, 0);
  for (size_t i = 0; i < text.lines.size(); ++i)
    offset[i + 1] = offset[i] + static_cast<int64_t>(text.lines[i].size()) + 1;
  const std::vector<std::vector<int32_t>> batches = length_batches(text.lines, o);
  auto run = [&](size_t j) {  // each batch writes only its own lines' positions
    const TargetBatch b = sentence_batch(text.lines, batches[j]);
    const std::vector<float> blp = target_log_probs(model.logits(b, nullptr)->value, b.output);
    for (int64_t n = 0; n < b.batch; ++n)
      for (int t = 0; t < b.lengths[n]; ++t) lp[offset[batches[j][n]] + t] = blp[n * b.length + t];
  };
  if (o.workers && batches.size() > 1) {
    o.workers->run(batches.size(), run);
  } else {
    for (size_t j = 0; j < batches.size(); ++j) run(j);
  }
}

void stream_log_probs(LanguageModel& model, const LmText& text, std::vector<float>& lp) {
  const LmStream stream = make_stream(text.lines);
  const StreamWindows windows(stream, 1, model.config().bptt);
  const std::unique_ptr<LmState> state = model.start(1);
  for (int64_t w = 0; w < windows.windows(); ++w) {
    const TargetBatch b = windows.window(w);
    const std::vector<float> blp = target_log_probs(model.logits(b, state.get())->value, b.output);
    for (int64_t t = 0; t < b.length; ++t) lp[windows.position(w, 0, t)] = blp[t];
  }
}

}  // namespace

void LmScoreOptions::validate() const {
  if (mini_batch < 1) throw OptionError(cat("mini-batch must be >= 1, got ", mini_batch));
}

std::vector<float> position_log_probs(LanguageModel& model, const LmText& text, const LmScoreOptions& options) {
  options.validate();
  std::vector<float> lp(text.pieces(), 0.0f);
  if (model.stream_mode())
    stream_log_probs(model, text, lp);
  else
    sentence_log_probs(model, text, options, lp);
  return lp;
}

LmScores score_text(LanguageModel& model, const LmText& text, const LmScoreOptions& options) {
  const std::vector<float> lp = position_log_probs(model, text, options);
  LmScores s;
  s.pieces = text.pieces();
  s.words = text.words;
  s.lines.resize(text.lines.size());
  size_t p = 0;
  for (size_t i = 0; i < text.lines.size(); ++i) {
    SentenceScore& line = s.lines[i];
    line.tokens = static_cast<int>(text.lines[i].size()) + 1;
    for (int k = 0; k < line.tokens; ++k) line.log_prob += lp[p++];
    s.log_prob += line.log_prob;
  }
  return s;
}

}  // namespace nmt
