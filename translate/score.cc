#include "translate/score.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/graph.h"
#include "ops/cross_entropy.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

void score_batch(Model& model, const std::vector<std::vector<int32_t>>& sources,
                 const std::vector<std::vector<int32_t>>& targets, const std::vector<int32_t>& rows,
                 std::vector<SentenceScore>& out) {
  std::vector<std::vector<int32_t>> s, t;
  for (int32_t i : rows) {
    s.push_back(sources[i]);
    s.back().push_back(Vocab::kEos);
    t.push_back(targets[i]);
  }
  const SourceBatch src = SourceBatch::from(s);
  const TargetBatch trg = TargetBatch::from(t);
  NoGradScope no_grad;  // on the thread that runs the batch
  Rng unused(0);
  EncoderOutput enc = model.encoder().encode(src, false, unused);
  Var logits = model.decoder().forward(enc, trg, false, unused);
  const std::vector<float> lp = target_log_probs(logits->value, trg.output);
  for (size_t n = 0; n < rows.size(); ++n) {
    SentenceScore& r = out[rows[n]];
    r.tokens = trg.lengths[n];
    r.log_prob = 0;
    for (int p = 0; p < trg.lengths[n]; ++p) r.log_prob += lp[n * trg.length + p];
  }
}

}  // namespace

void ScoreOptions::validate() const {
  if (mini_batch < 1) throw OptionError(cat("mini-batch must be >= 1, got ", mini_batch));
}

std::vector<SentenceScore> score_ids(Model& model, const std::vector<std::vector<int32_t>>& sources,
                                     const std::vector<std::vector<int32_t>>& targets, const ScoreOptions& options) {
  if (sources.size() != targets.size())
    throw Error(cat("score_ids: ", sources.size(), " sources but ", targets.size(), " targets"));
  options.validate();
  std::vector<SentenceScore> out(sources.size());
  std::vector<int32_t> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (targets[a].size() != targets[b].size()) return targets[a].size() < targets[b].size();
    return sources[a].size() < sources[b].size();
  });
  std::vector<std::vector<int32_t>> batches(1);
  for (int32_t i : order) {
    // Sorted by target length: this sentence is the longest of the batch so far.
    std::vector<int32_t>& batch = batches.back();
    const int64_t t = static_cast<int64_t>(targets[i].size()) + 1;
    const int64_t rows = static_cast<int64_t>(batch.size() + 1) * t;
    if (!batch.empty() && (static_cast<int>(batch.size()) >= options.mini_batch || rows > options.max_rows))
      batches.emplace_back();
    batches.back().push_back(i);
  }
  if (batches.back().empty()) batches.pop_back();
  // Longest first, so that no worker is left with a long batch at the end. Each batch writes
  // only its own sentences' scores.
  auto run = [&](size_t j) { score_batch(model, sources, targets, batches[batches.size() - 1 - j], out); };
  if (options.workers && batches.size() > 1) {
    options.workers->run(batches.size(), run);
  } else {
    for (size_t j = 0; j < batches.size(); ++j) run(j);
  }
  return out;
}

}  // namespace nmt
