#include "translate/score.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/graph.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

// Scores the sentences `rows` as one batch: each member's forced-decoding log-probability of
// every target, then their weighted sum.
void score_batch(Ensemble& ensemble, const std::vector<MemberSources>& sources,
                 const std::vector<std::vector<int32_t>>& targets, const std::vector<int32_t>& rows,
                 std::vector<SentenceScore>& out) {
  std::vector<std::vector<int32_t>> t;
  for (int32_t i : rows) t.push_back(targets[i]);
  const TargetBatch trg = TargetBatch::from(t);
  std::vector<double> total(rows.size(), 0.0);
  NoGradScope no_grad;  // on the thread that runs the batch
  for (size_t m = 0; m < ensemble.size(); ++m) {
    std::vector<std::vector<int32_t>> s;
    for (int32_t i : rows) {
      s.push_back(sources[i][m]);
      s.back().push_back(Vocab::kEos);
    }
    const std::vector<float> lp = ensemble.member(m).forced_log_probs(SourceBatch::from(s), trg);
    for (size_t n = 0; n < rows.size(); ++n) {
      double member = 0;
      for (int p = 0; p < trg.lengths[n]; ++p) member += lp[n * trg.length + p];
      total[n] += static_cast<double>(ensemble.weight(m)) * member;  // weight 1: the member's score itself
    }
  }
  for (size_t n = 0; n < rows.size(); ++n) {
    out[rows[n]].tokens = trg.lengths[n];
    out[rows[n]].log_prob = total[n];
  }
}

// The longest of a sentence's sources.
size_t longest(const MemberSources& ids) {
  size_t n = 0;
  for (const auto& s : ids) n = std::max(n, s.size());
  return n;
}

}  // namespace

void ScoreOptions::validate() const {
  if (mini_batch < 1) throw OptionError(cat("mini-batch must be >= 1, got ", mini_batch));
}

std::vector<SentenceScore> score_ids(Ensemble& ensemble, const std::vector<MemberSources>& sources,
                                     const std::vector<std::vector<int32_t>>& targets, const ScoreOptions& options) {
  if (sources.size() != targets.size())
    throw Error(cat("score_ids: ", sources.size(), " sources but ", targets.size(), " targets"));
  for (const MemberSources& s : sources)
    if (s.size() != ensemble.size())
      throw Error(cat("score_ids: sources for ", s.size(), " of ", ensemble.size(), " members"));
  options.validate();
  std::vector<SentenceScore> out(sources.size());
  std::vector<int32_t> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (targets[a].size() != targets[b].size()) return targets[a].size() < targets[b].size();
    return longest(sources[a]) < longest(sources[b]);
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
  auto run = [&](size_t j) { score_batch(ensemble, sources, targets, batches[batches.size() - 1 - j], out); };
  if (options.workers && batches.size() > 1) {
    options.workers->run(batches.size(), run);
  } else {
    for (size_t j = 0; j < batches.size(); ++j) run(j);
  }
  return out;
}

std::vector<SentenceScore> score_ids(Model& model, const std::vector<std::vector<int32_t>>& sources,
                                     const std::vector<std::vector<int32_t>>& targets, const ScoreOptions& options) {
  Ensemble e = Ensemble::of(model);
  std::vector<MemberSources> per_member;
  per_member.reserve(sources.size());
  for (const auto& s : sources) per_member.push_back({s});
  return score_ids(e, per_member, targets, options);
}

}  // namespace nmt
