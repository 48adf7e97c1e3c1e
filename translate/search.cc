#include "translate/search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/graph.h"
#include "core/ops/softmax.h"

namespace nmt {
namespace {

constexpr int32_t kUnk = 1, kBos = 2, kEos = 3;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int max_output_length(const SearchOptions& o, int source_length) {
  return std::max(1, static_cast<int>(o.max_length_factor * source_length) + o.max_length_offset);
}

float length_penalty(const SearchOptions& o, size_t length) {
  return o.normalize > 0 ? std::pow(static_cast<float>(length), o.normalize) : 1.0f;
}

// log-probabilities [rows, V] of one decoder step
Tensor step_log_probs(Model& model, DecoderState& state, const std::vector<int32_t>& previous, bool allow_unk) {
  Var logits = model.decoder().step(state, previous);
  Tensor lp = log_softmax(logits)->value;
  if (!allow_unk) {
    const int64_t V = lp.dim(1);
    for (int64_t r = 0; r < lp.dim(0); ++r) lp[r * V + kUnk] = kNegInf;
  }
  return lp;
}

void append_alignment(const DecoderState& state, int64_t row, const SourceBatch& src, int64_t sentence,
                      std::vector<std::vector<float>>& alignment) {
  Tensor a = state.last_attention();
  if (a.empty()) return;
  const int64_t S = a.dim(1);
  const float* p = a.data() + row * S;
  alignment.emplace_back(p, p + src.lengths[sentence]);
}

}  // namespace

std::vector<Hypothesis> greedy_search(Model& model, const SourceBatch& src, const SearchOptions& options) {
  NoGradScope no_grad;
  Rng unused(0);
  EncoderOutput enc = model.encoder().encode(src, false, unused);
  std::unique_ptr<DecoderState> state = model.decoder().start(enc);
  std::vector<Hypothesis> out(src.batch);
  std::vector<int32_t> active(src.batch);  // sentence of each row
  std::iota(active.begin(), active.end(), 0);
  std::vector<int32_t> previous(src.batch, kBos);
  for (int step = 0; !active.empty(); ++step) {
    Tensor lp = step_log_probs(model, *state, previous, options.allow_unk);
    const int64_t V = lp.dim(1);
    std::vector<int32_t> keep_rows, next_active, next_previous;
    for (size_t r = 0; r < active.size(); ++r) {
      const float* row = lp.data() + r * V;
      const int32_t best = static_cast<int32_t>(std::max_element(row, row + V) - row);
      Hypothesis& h = out[active[r]];
      h.score += row[best];
      if (options.keep_alignment) append_alignment(*state, r, src, active[r], h.alignment);
      const bool at_limit = static_cast<int>(h.tokens.size()) + 1 >= max_output_length(options, src.lengths[active[r]]);
      if (best == kEos || at_limit) {
        if (best != kEos) h.tokens.push_back(best);
        h.normalized_score = h.score / length_penalty(options, h.tokens.size() + 1);
        continue;
      }
      h.tokens.push_back(best);
      keep_rows.push_back(static_cast<int32_t>(r));
      next_active.push_back(active[r]);
      next_previous.push_back(best);
    }
    if (keep_rows.size() != active.size() && !keep_rows.empty()) state->select(keep_rows);
    active = std::move(next_active);
    previous = std::move(next_previous);
  }
  return out;
}

std::vector<std::vector<Hypothesis>> search(Model& model, const SourceBatch& src, const SearchOptions& options) {
  if (options.beam_size < 1) throw InputError(cat("--beam-size must be >= 1, got ", options.beam_size));
  const int K = options.beam_size;
  const int n_best = std::max(1, std::min(options.n_best, K));
  if (K == 1) {
    std::vector<std::vector<Hypothesis>> out;
    for (Hypothesis& h : greedy_search(model, src, options)) out.push_back({std::move(h)});
    return out;
  }
  NoGradScope no_grad;
  Rng unused(0);
  EncoderOutput enc = model.encoder().encode(src, false, unused);
  std::unique_ptr<DecoderState> state = model.decoder().start(enc);

  struct Beam {
    std::vector<Hypothesis> alive;     // up to K, one state row each
    std::vector<Hypothesis> finished;
    bool done = false;
  };
  std::vector<Beam> beams(src.batch);
  // Row layout: for each active sentence, its alive hypotheses in order.
  std::vector<int32_t> rows;
  for (int64_t n = 0; n < src.batch; ++n) {
    beams[n].alive.push_back(Hypothesis{});
    rows.push_back(static_cast<int32_t>(n));
  }
  std::vector<int32_t> active(src.batch);
  std::iota(active.begin(), active.end(), 0);
  std::vector<int32_t> previous(src.batch, kBos);

  while (!active.empty()) {
    Tensor lp = step_log_probs(model, *state, previous, options.allow_unk);
    const int64_t V = lp.dim(1);
    std::vector<int32_t> next_rows, next_active, next_previous;
    int64_t row = 0;
    for (int32_t n : active) {
      Beam& beam = beams[n];
      const int64_t first_row = row;
      const size_t alive = beam.alive.size();
      // The best 2K expansions of the alive hypotheses.
      struct Cand { float score; int32_t hyp; int32_t token; };
      std::vector<Cand> cands;
      cands.reserve(alive * V);
      for (size_t k = 0; k < alive; ++k) {
        const float* p = lp.data() + (first_row + k) * V;
        for (int64_t v = 0; v < V; ++v)
          if (p[v] != kNegInf) cands.push_back({beam.alive[k].score + p[v], static_cast<int32_t>(k), static_cast<int32_t>(v)});
      }
      row += alive;
      const size_t top = std::min(cands.size(), static_cast<size_t>(2 * K));
      std::partial_sort(cands.begin(), cands.begin() + top, cands.end(),
                        [](const Cand& a, const Cand& b) { return a.score > b.score; });
      const int limit = max_output_length(options, src.lengths[n]);
      std::vector<Hypothesis> next_alive;
      for (size_t i = 0; i < top && static_cast<int>(next_alive.size()) < K; ++i) {
        const Cand& c = cands[i];
        Hypothesis h = beam.alive[c.hyp];
        h.score = c.score;
        if (options.keep_alignment) append_alignment(*state, first_row + c.hyp, src, n, h.alignment);
        const bool at_limit = static_cast<int>(h.tokens.size()) + 1 >= limit;
        if (c.token == kEos || at_limit) {
          if (c.token != kEos) h.tokens.push_back(c.token);
          h.normalized_score = h.score / length_penalty(options, h.tokens.size() + 1);
          beam.finished.push_back(std::move(h));
          continue;
        }
        h.tokens.push_back(c.token);
        next_alive.push_back(std::move(h));
        next_rows.push_back(static_cast<int32_t>(first_row + c.hyp));
        next_previous.push_back(c.token);
      }
      if (static_cast<int>(beam.finished.size()) >= K || next_alive.empty()) {
        // Done: drop its rows again.
        next_rows.resize(next_rows.size() - next_alive.size());
        next_previous.resize(next_previous.size() - next_alive.size());
        beam.done = true;
        beam.alive.clear();
        continue;
      }
      beam.alive = std::move(next_alive);
      next_active.push_back(n);
    }
    if (next_rows.empty()) break;
    state->select(next_rows);
    active = std::move(next_active);
    previous = std::move(next_previous);
  }

  std::vector<std::vector<Hypothesis>> out(src.batch);
  for (int64_t n = 0; n < src.batch; ++n) {
    auto& fin = beams[n].finished;
    std::stable_sort(fin.begin(), fin.end(),
                     [](const Hypothesis& a, const Hypothesis& b) { return a.normalized_score > b.normalized_score; });
    if (static_cast<int>(fin.size()) > n_best) fin.resize(n_best);
    out[n] = std::move(fin);
  }
  return out;
}

}  // namespace nmt
