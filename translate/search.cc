#include "translate/search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>

#include "core/error.h"
#include "core/graph.h"
#include "tokenization/vocab.h"
#include "translate/shortlist.h"

namespace nmt {
namespace {

constexpr int32_t kPad = Vocab::kPad, kUnk = Vocab::kUnk, kBos = Vocab::kBos, kEos = Vocab::kEos;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float length_penalty(const SearchOptions& o, size_t tokens_with_eos) {
  return o.normalize > 0 ? std::pow(static_cast<float>(tokens_with_eos), o.normalize) : 1.0f;
}

// The columns of a step's logits: all of the vocabulary, or a shortlist's vocabulary for the
// batch (then column c is target id ids[c], ascending).
struct Columns {
  std::vector<int32_t> ids;     // empty: column c is id c
  int64_t eos = kEos;           // the column of </s>
  std::vector<int64_t> masked;  // columns never generated (<pad>, <s>, and <unk> unless allowed)
  int32_t id(int64_t column) const { return ids.empty() ? static_cast<int32_t>(column) : ids[column]; }
};

// The columns of the batch: its shortlist vocabulary (from the primary member's source ids)
// when there is a shortlist, else the whole vocabulary.
Columns batch_columns(const SourceBatch& primary_src, const SearchOptions& o) {
  Columns c;
  if (!o.shortlist) {
    c.masked = {kPad, kBos};
    if (!o.allow_unk) c.masked.push_back(kUnk);
    return c;
  }
  c.ids = o.shortlist->vocabulary(primary_src, o.allow_unk);  // has </s>, never <pad> or <s>
  c.eos = std::lower_bound(c.ids.begin(), c.ids.end(), kEos) - c.ids.begin();
  return c;
}

// The decoding of one batch by every member of an ensemble: their states, one row per
// hypothesis, kept in step.
struct Decoding {
  Ensemble& ensemble;
  std::vector<std::unique_ptr<MemberState>> states;
  Columns columns;

  void select(const std::vector<int32_t>& rows) {
    for (auto& s : states) s->select(rows);
  }
  // The primary member's attention weights of the last step.
  Tensor last_attention() const { return states[ensemble.primary()]->last_attention(); }
};

// Starts every member on its own source ids of the batch (src[m] for member m).
Decoding start_decoding(Ensemble& ensemble, const std::vector<SourceBatch>& src, const SearchOptions& o) {
  Decoding d{ensemble, {}, batch_columns(src[ensemble.primary()], o)};
  for (size_t m = 0; m < ensemble.size(); ++m) d.states.push_back(ensemble.member(m).start(src[m], d.columns.ids));
  return d;
}

// The ensemble's log-probabilities of one step, [rows, columns]: the weighted sum of the
// members' (a single member of weight 1: its own, untouched).
Tensor ensemble_log_probs(Decoding& d, const std::vector<int32_t>& previous) {
  Tensor sum;
  for (size_t m = 0; m < d.ensemble.size(); ++m) {
    Tensor lp = d.ensemble.member(m).step(*d.states[m], previous);
    if (lp.rank() != 2 || lp.dim(0) != static_cast<int64_t>(previous.size()) || lp.dim(1) <= d.columns.eos ||
        (m > 0 && lp.dim(1) != sum.dim(1)))
      throw Error(cat("ensemble member ", m + 1, " gave log-probabilities ", shape_str(lp.shape()), " for ",
                      previous.size(), " rows"));
    if (d.ensemble.single()) return lp;
    const float w = d.ensemble.weight(m);
    float* out = lp.data();
    if (m == 0) {
      for (int64_t i = 0, n = lp.numel(); i < n; ++i) out[i] *= w;  // in place: the step's tensor is ours
      sum = lp;
      continue;
    }
    float* acc = sum.data();
    for (int64_t i = 0, n = lp.numel(); i < n; ++i) acc[i] += w * out[i];
  }
  return sum;
}

// One step of the ensemble: log-probabilities [rows, columns]. Tokens that may not be
// generated are -inf (not renormalised, so the other entries stay the ensemble's
// log-probabilities); rows with force_eos may only end.
Tensor step_log_probs(Decoding& d, const std::vector<int32_t>& previous, const std::vector<char>& force_eos) {
  Tensor lp = ensemble_log_probs(d, previous);
  const int64_t rows = lp.dim(0), V = lp.dim(1);
  for (int64_t r = 0; r < rows; ++r) {
    float* p = lp.data() + r * V;
    if (force_eos[r]) {
      const float eos = p[d.columns.eos];
      std::fill(p, p + V, kNegInf);
      p[d.columns.eos] = eos;
      continue;
    }
    for (int64_t c : d.columns.masked) p[c] = kNegInf;
  }
  return lp;
}

// Beam search scans each row's log-probabilities in blocks of this many entries.
constexpr int64_t kScanBlock = 64;

// The largest entry of each block of p[0, n), into `out`. (Written as a compare-and-select:
// GCC vectorises that form of the reduction, not std::max.)
void block_maxima(const float* p, int64_t n, std::vector<float>& out) {
  out.resize(static_cast<size_t>((n + kScanBlock - 1) / kScanBlock));
  for (int64_t b = 0; b < static_cast<int64_t>(out.size()); ++b) {
    const float* q = p + b * kScanBlock;
    const int64_t len = std::min(kScanBlock, n - b * kScanBlock);
    float m = kNegInf;
#pragma omp simd reduction(max : m)
    for (int64_t i = 0; i < len; ++i) m = q[i] > m ? q[i] : m;
    out[b] = m;
  }
}

// The attention weights of the last step, checked to have one row per state row.
Tensor step_attention(const Decoding& d, size_t rows) {
  Tensor a = d.last_attention();
  if (a.empty() || a.rank() != 2 || a.dim(0) != static_cast<int64_t>(rows))
    throw Error(cat("the decoder has attention but gave weights ", a.empty() ? "none" : shape_str(a.shape()), " for ",
                    rows, " rows"));
  return a;
}

std::vector<float> attention_row(const Tensor& a, int64_t row, int length) {
  const float* p = a.data() + row * a.dim(1);
  return std::vector<float>(p, p + length);
}

// True when `rows` is 0, 1, ..., rows_before - 1 (select would change nothing).
bool keeps_all(const std::vector<int32_t>& rows, size_t rows_before) {
  if (rows.size() != rows_before) return false;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] != static_cast<int32_t>(i)) return false;
  return true;
}

// Keeps the members' state rows `live` (in that order) in a state of
// min(row_bucket(|live|), most) rows: the live rows first, then copies of the first as
// filler. The filler rows are computed and ignored; returns the new row count.
size_t select_bucketed(Decoding& d, std::vector<int32_t> live, size_t rows_before, size_t most) {
  const size_t rows = std::max(live.size(), std::min(row_bucket(live.size()), most));
  live.resize(rows, live.front());
  if (!keeps_all(live, rows_before)) d.select(live);
  return rows;
}

// Beam search's state of one sentence. Its hypotheses form a tree of nodes (token +
// parent); an alive hypothesis is a leaf, with one decoder state row.
struct Node {
  int32_t parent;  // -1: the empty prefix
  int32_t token;
  std::vector<float> alignment;  // attention of the step that produced token
};
struct Alive {
  int32_t node;  // -1: the empty prefix
  float score;
  int length;  // tokens so far
};
struct Beam {
  std::vector<Node> nodes;
  std::vector<Alive> alive;
  std::vector<Hypothesis> finished;
};

// The hypothesis that ends at `node` with </s>: its tokens (and alignment rows) read back
// from the tree.
Hypothesis finished_hypothesis(const Beam& beam, int32_t node, float score, std::vector<float> eos_alignment,
                               const SearchOptions& options) {
  Hypothesis h;
  h.score = score;
  for (int32_t i = node; i >= 0; i = beam.nodes[i].parent) {
    h.tokens.push_back(beam.nodes[i].token);
    if (options.keep_alignment) h.alignment.push_back(beam.nodes[i].alignment);
  }
  std::reverse(h.tokens.begin(), h.tokens.end());
  std::reverse(h.alignment.begin(), h.alignment.end());
  if (options.keep_alignment) h.alignment.push_back(std::move(eos_alignment));
  h.normalized_score = h.score / length_penalty(options, h.tokens.size() + 1);
  return h;
}

// For each of the `rows` state rows: whether it may only end (its hypothesis has the most
// tokens its source allows). Filler rows are not forced.
std::vector<char> rows_at_length_limit(const std::vector<Beam>& beams, const std::vector<int32_t>& active,
                                       const std::vector<int>& lengths, const SearchOptions& options, size_t rows) {
  std::vector<char> force;
  for (int32_t n : active) {
    const int limit = max_output_length(options, lengths[n]);
    for (const Alive& a : beams[n].alive) force.push_back(a.length >= limit);
  }
  force.resize(rows, 0);
  return force;
}

// The state rows kept for the next step, in order, with their tokens; and the sentences
// still searched.
struct NextStep {
  std::vector<int32_t> rows, previous, active;
};

// One step of one sentence's beam, whose alive hypotheses are the rows from `first_row` of
// the step's log-probabilities `lp` (and attention `att`): the best K - |finished|
// expansions survive; those ending in </s> move to the finished list, the others become
// the alive hypotheses, their rows and tokens appended to `next`.
void expand_beam(Beam& beam, const Tensor& lp, int64_t first_row, const Tensor& att, int source_length, size_t K,
                 const Columns& columns, const SearchOptions& options, NextStep& next) {
  const int64_t V = lp.dim(1);
  std::vector<float> base;
  for (const Alive& a : beam.alive) base.push_back(a.score);
  std::vector<Expansion> cands = best_expansions(lp.data() + first_row * V, V, base, K - beam.finished.size());
  for (Expansion& c : cands) c.token = columns.id(c.token);  // ascending ids: the ranking holds
  std::vector<Alive> next_alive;
  for (const Expansion& c : cands) {
    const Alive& parent = beam.alive[c.hyp];
    const int64_t row = first_row + c.hyp;
    std::vector<float> alignment =
        options.keep_alignment ? attention_row(att, row, source_length) : std::vector<float>();
    if (c.token == kEos) {
      beam.finished.push_back(finished_hypothesis(beam, parent.node, c.score, std::move(alignment), options));
      continue;
    }
    beam.nodes.push_back(Node{parent.node, c.token, std::move(alignment)});
    next_alive.push_back(Alive{static_cast<int32_t>(beam.nodes.size() - 1), c.score, parent.length + 1});
    next.rows.push_back(static_cast<int32_t>(row));
    next.previous.push_back(c.token);
  }
  beam.alive = std::move(next_alive);
}

// The `n_best` best finished hypotheses by normalized score, best first (stable: equal
// scores keep the order they finished in).
std::vector<Hypothesis> best_finished(Beam& beam, size_t n_best) {
  std::vector<Hypothesis>& fin = beam.finished;
  std::stable_sort(fin.begin(), fin.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.normalized_score > b.normalized_score; });
  if (fin.size() > n_best) fin.resize(n_best);
  return std::move(fin);
}

}  // namespace

void SearchOptions::validate() const {
  if (beam_size < 1) throw OptionError(cat("beam-size must be >= 1, got ", beam_size));
  if (n_best < 1 || n_best > beam_size)
    throw OptionError(cat("n-best-size must be in [1, beam-size], got ", n_best, " with beam-size ", beam_size));
  if (!(normalize >= 0)) throw OptionError(cat("normalize must be >= 0, got ", normalize));
  if (!(max_length_factor >= 0)) throw OptionError(cat("max-length-factor must be >= 0, got ", max_length_factor));
  if (max_length_offset < 0) throw OptionError(cat("max-length-offset must be >= 0, got ", max_length_offset));
}

void check_ensemble_supports(const Ensemble& ensemble, const SearchOptions& options) {
  // Alignments are the primary member's attention weights: a decoder without attention has none.
  const Member& primary = ensemble.member(ensemble.primary());
  if (options.keep_alignment && !primary.has_attention())
    throw InputError(
        cat("alignments are attention weights, and this model's decoder (", primary.kind(), ") has no attention"));
}

void check_model_supports(Model& model, const SearchOptions& options) {
  check_ensemble_supports(Ensemble::of(model), options);
}

size_t row_bucket(size_t n) {
  if (n <= 4) return n;
  size_t b = 4;  // 4, 6, 8, 12, 16, 24, ...: at most a third of the rows are filler
  while (b < n) b = (b & (b - 1)) == 0 ? b + b / 2 : (b / 3) * 4;
  return b;
}

int max_output_length(const SearchOptions& o, int source_length) {
  const int pieces = std::max(0, source_length - 1);
  return std::max(1, static_cast<int>(o.max_length_factor * static_cast<float>(pieces)) + o.max_length_offset);
}

std::vector<Expansion> best_expansions(const float* lp, int64_t V, const std::vector<float>& base, size_t capacity) {
  // Ranking: higher score first, then lower hypothesis, then lower token id.
  auto better = [](const Expansion& a, const Expansion& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.hyp != b.hyp) return a.hyp < b.hyp;
    return a.token < b.token;
  };
  std::priority_queue<Expansion, std::vector<Expansion>, decltype(better)> heap(better);  // top: the worst kept
  std::vector<float> maxima;
  for (size_t k = 0; k < base.size() && capacity > 0; ++k) {
    const float* p = lp + static_cast<int64_t>(k) * V;
    // Log-probabilities below `skip` cannot enter the full heap: a cheap test that lets
    // the exact comparison run for a few tokens of the row only. The margin keeps it
    // conservative where base + p rounds differently from the heap's score.
    auto skip_below = [&] {
      if (heap.size() < capacity) return kNegInf;
      const float worst = heap.top().score;
      return (worst - base[k]) - 1e-3f * (1.0f + std::fabs(worst) + std::fabs(base[k]));
    };
    float skip = skip_below();
    block_maxima(p, V, maxima);  // blocks whose largest entry is below `skip` are passed over
    for (int64_t block = 0; block < V; block += kScanBlock) {
      if (maxima[block / kScanBlock] < skip) continue;
      for (int64_t v = block, end = std::min(V, block + kScanBlock); v < end; ++v) {
        if (p[v] < skip || p[v] == kNegInf) continue;
        const Expansion c{base[k] + p[v], static_cast<int32_t>(k), static_cast<int32_t>(v)};
        if (heap.size() < capacity) {
          heap.push(c);
        } else if (better(c, heap.top())) {
          heap.pop();
          heap.push(c);
        } else {
          continue;
        }
        skip = skip_below();
      }
    }
  }
  std::vector<Expansion> out;
  out.reserve(heap.size());
  for (; !heap.empty(); heap.pop()) out.push_back(heap.top());
  std::reverse(out.begin(), out.end());  // best first
  return out;
}

namespace {

// Checks that `src` has one batch per member, all of the same sentences; returns the batch size.
int64_t check_sources(const Ensemble& ensemble, const std::vector<SourceBatch>& src) {
  if (src.size() != ensemble.size())
    throw Error(cat("search: ", src.size(), " source batches for an ensemble of ", ensemble.size()));
  for (const SourceBatch& b : src)
    if (b.batch != src[0].batch) throw Error(cat("search: source batches of ", src[0].batch, " and ", b.batch));
  return src[0].batch;
}

// Each sentence's source length for the length limit: the longest of the members' that read
// the source (one model: its own).
std::vector<int> limit_lengths(const Ensemble& ensemble, const std::vector<SourceBatch>& src) {
  std::vector<int> lengths = src[ensemble.primary()].lengths;
  for (size_t m = 0; m < ensemble.size(); ++m)
    if (ensemble.member(m).reads_source())
      for (size_t n = 0; n < lengths.size(); ++n) lengths[n] = std::max(lengths[n], src[m].lengths[n]);
  return lengths;
}

// Greedy search's state: the sentence of each state row (-1: finished, a filler row until the
// state shrinks) and the token each row feeds next.
struct GreedyRows {
  std::vector<int32_t> sentence, previous;
  size_t live = 0;  // rows of unfinished sentences
};

// Takes each live row's best token of the step's log-probabilities `lp` (and its attention
// row from `att`), ending the sentences whose best token is </s>.
void greedy_advance(const Tensor& lp, const Tensor& att, const Columns& columns, const std::vector<int>& src_lengths,
                    const SearchOptions& options, GreedyRows& g, std::vector<Hypothesis>& out) {
  const int64_t V = lp.dim(1);
  for (size_t r = 0; r < g.sentence.size(); ++r) {
    if (g.sentence[r] < 0) continue;
    const float* row = lp.data() + r * V;
    const int64_t column = std::max_element(row, row + V) - row;
    const int32_t best = columns.id(column);
    Hypothesis& h = out[g.sentence[r]];
    h.score += row[column];
    if (options.keep_alignment) h.alignment.push_back(attention_row(att, r, src_lengths[g.sentence[r]]));
    g.previous[r] = best;
    if (best == kEos) {
      h.normalized_score = h.score / length_penalty(options, h.tokens.size() + 1);
      g.sentence[r] = -1;
      --g.live;
      continue;
    }
    h.tokens.push_back(best);
  }
}

// Drops finished rows once the live ones fit a smaller row_bucket.
void greedy_shrink(Decoding& d, GreedyRows& g) {
  const size_t rows = g.sentence.size();
  if (g.live == 0 || std::min(row_bucket(g.live), rows) == rows) return;
  std::vector<int32_t> keep, next_sentence, next_previous;
  for (size_t r = 0; r < rows; ++r)
    if (g.sentence[r] >= 0) {
      keep.push_back(static_cast<int32_t>(r));
      next_sentence.push_back(g.sentence[r]);
      next_previous.push_back(g.previous[r]);
    }
  const size_t kept = select_bucketed(d, std::move(keep), rows, rows);
  next_sentence.resize(kept, -1);
  next_previous.resize(kept, kEos);
  g.sentence = std::move(next_sentence);
  g.previous = std::move(next_previous);
}

}  // namespace

std::vector<Hypothesis> greedy_search(Ensemble& ensemble, const std::vector<SourceBatch>& src,
                                      const SearchOptions& options) {
  options.validate();
  check_ensemble_supports(ensemble, options);
  const int64_t batch = check_sources(ensemble, src);
  std::vector<Hypothesis> out(batch);
  if (batch == 0) return out;
  NoGradScope no_grad;
  Decoding d = start_decoding(ensemble, src, options);
  const std::vector<int> lengths = limit_lengths(ensemble, src);
  const std::vector<int>& att_lengths = src[ensemble.primary()].lengths;
  GreedyRows g;
  g.sentence.resize(batch);
  std::iota(g.sentence.begin(), g.sentence.end(), 0);
  g.previous.assign(g.sentence.size(), kBos);
  g.live = batch;
  while (g.live > 0) {
    const size_t rows = g.sentence.size();
    std::vector<char> force(rows, 0);
    for (size_t r = 0; r < rows; ++r)
      if (g.sentence[r] >= 0)
        force[r] =
            static_cast<int>(out[g.sentence[r]].tokens.size()) >= max_output_length(options, lengths[g.sentence[r]]);
    const Tensor lp = step_log_probs(d, g.previous, force);
    const Tensor att = options.keep_alignment ? step_attention(d, rows) : Tensor();
    greedy_advance(lp, att, d.columns, att_lengths, options, g, out);
    greedy_shrink(d, g);
  }
  return out;
}

std::vector<std::vector<Hypothesis>> beam_search(Ensemble& ensemble, const std::vector<SourceBatch>& src,
                                                 const SearchOptions& options) {
  options.validate();
  check_ensemble_supports(ensemble, options);
  const size_t K = static_cast<size_t>(options.beam_size);
  const int64_t batch = check_sources(ensemble, src);
  std::vector<std::vector<Hypothesis>> out(batch);
  if (batch == 0) return out;
  NoGradScope no_grad;
  Decoding d = start_decoding(ensemble, src, options);
  const std::vector<int> lengths = limit_lengths(ensemble, src);
  const std::vector<int>& att_lengths = src[ensemble.primary()].lengths;

  std::vector<Beam> beams(batch);
  for (Beam& b : beams) b.alive.push_back(Alive{-1, 0.0f, 0});
  std::vector<int32_t> active(batch);  // sentences with alive hypotheses, in row order
  std::iota(active.begin(), active.end(), 0);
  size_t rows = active.size();
  const size_t most_rows = K * active.size();
  std::vector<int32_t> previous(rows, kBos);
  while (!active.empty()) {
    const std::vector<char> force = rows_at_length_limit(beams, active, lengths, options, rows);
    const Tensor lp = step_log_probs(d, previous, force);
    const Tensor att = options.keep_alignment ? step_attention(d, previous.size()) : Tensor();
    NextStep next;
    int64_t first_row = 0;
    for (int32_t n : active) {
      Beam& beam = beams[n];
      const size_t alive_rows = beam.alive.size();
      expand_beam(beam, lp, first_row, att, att_lengths[n], K, d.columns, options, next);
      first_row += static_cast<int64_t>(alive_rows);
      if (!beam.alive.empty()) next.active.push_back(n);  // else K finished, or nothing left to expand
    }
    if (next.rows.empty()) break;
    rows = select_bucketed(d, std::move(next.rows), rows, most_rows);
    next.previous.resize(rows, kEos);
    active = std::move(next.active);
    previous = std::move(next.previous);
  }
  for (int64_t n = 0; n < batch; ++n) out[n] = best_finished(beams[n], static_cast<size_t>(options.n_best));
  return out;
}

std::vector<std::vector<Hypothesis>> search(Ensemble& ensemble, const std::vector<SourceBatch>& src,
                                            const SearchOptions& options) {
  if (options.beam_size > 1) return beam_search(ensemble, src, options);
  std::vector<std::vector<Hypothesis>> out;
  for (Hypothesis& h : greedy_search(ensemble, src, options)) out.push_back({std::move(h)});
  return out;
}

std::vector<std::vector<Hypothesis>> search(Model& model, const SourceBatch& src, const SearchOptions& options) {
  Ensemble e = Ensemble::of(model);
  return search(e, {src}, options);
}

std::vector<std::vector<Hypothesis>> beam_search(Model& model, const SourceBatch& src, const SearchOptions& options) {
  Ensemble e = Ensemble::of(model);
  return beam_search(e, {src}, options);
}

std::vector<Hypothesis> greedy_search(Model& model, const SourceBatch& src, const SearchOptions& options) {
  Ensemble e = Ensemble::of(model);
  return greedy_search(e, {src}, options);
}

}  // namespace nmt
