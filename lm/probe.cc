#include "lm/probe.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "lm/score.h"

namespace nmt {
namespace {

constexpr int64_t kMaxBatchPositions = 8192;  // rows x width of one probe batch
constexpr int64_t kMaxGradientRows = 128;

// What the model reads: one sequence a line (sentence mode) or the whole stream. first is
// the text position of target[0].
struct Sequence {
  std::vector<int32_t> input, target;
  int64_t first = 0;
};

std::vector<Sequence> sequences_of(const LanguageModel& m, const LmText& text) {
  std::vector<Sequence> out;
  if (m.stream_mode()) {
    LmStream s = make_stream(text.lines);
    std::vector<int32_t> input(s.target.size());
    for (int64_t i = 0; i < s.size(); ++i) input[i] = s.input(i);
    out.push_back({std::move(input), std::move(s.target), 0});
    return out;
  }
  int64_t first = 0;
  for (const auto& line : text.lines) {
    Sequence q;
    q.first = first;
    q.input.push_back(m.begin_token());
    q.input.insert(q.input.end(), line.begin(), line.end());
    q.target = line;
    q.target.push_back(Vocab::kEos);
    first += static_cast<int64_t>(q.target.size());
    out.push_back(std::move(q));
  }
  return out;
}

// A probed position: target t of sequence seq, whose whole context starts at input `start`.
struct Position {
  size_t seq;
  int64_t t, start;
};

// At most `max` positions, evenly spread over the text, in text order.
std::vector<Position> probed_positions(const LanguageModel& m, const std::vector<Sequence>& seqs, int64_t total,
                                       int64_t max) {
  const int64_t n = std::min(total, max), bptt = m.config().bptt;
  const bool windows_alone = m.stream_mode() && !m.carries_state();
  std::vector<Position> out;
  size_t s = 0;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t p = j * total / n;
    while (seqs[s].first + static_cast<int64_t>(seqs[s].target.size()) <= p) ++s;
    const int64_t t = p - seqs[s].first;
    out.push_back({s, t, windows_alone ? t / bptt * bptt : 0});
  }
  return out;
}

// Reads input[from, to) into `state` (an RNN's), without computing any output.
void advance(LanguageModel& m, const std::vector<int32_t>& input, int64_t from, int64_t to, LmState& state) {
  NoGradScope no_grad;
  Rng unused(0);
  for (int64_t a = from; a < to; a += 256) {
    TargetBatch b;
    b.batch = 1;
    b.length = std::min<int64_t>(256, to - a);
    b.input.assign(input.begin() + a, input.begin() + a + b.length);
    b.output.assign(b.length, 0);  // no position counts: the output layer is skipped
    b.lengths = {static_cast<int>(b.length)};
    m.token_losses(b, &state, 0.0f, false, unused);
  }
}

// The state each position's window starts from (1 row each): an RNN's after reading its
// sequence up to begin[i]; a transformer's fresh.
std::vector<std::unique_ptr<LmState>> start_states(LanguageModel& m, const std::vector<Sequence>& seqs,
                                                   const std::vector<Position>& pos,
                                                   const std::vector<int64_t>& begin) {
  std::vector<std::unique_ptr<LmState>> out(pos.size());
  std::unique_ptr<LmState> state;
  size_t seq = seqs.size();
  int64_t read = 0;
  for (size_t i = 0; i < pos.size(); ++i) {  // in text order: begin grows within a sequence
    if (!m.carries_state()) {
      out[i] = m.start(1);
      continue;
    }
    if (pos[i].seq != seq) {
      state = m.start(1);
      seq = pos[i].seq;
      read = 0;
    }
    advance(m, seqs[seq].input, read, begin[i], *state);
    read = begin[i];
    out[i] = m.stack({state.get()});
  }
  return out;
}

// Positions grouped by the width of the input they read, in chunks of at most `max_rows`
// rows and kMaxBatchPositions positions.
std::vector<std::vector<size_t>> chunks_by_width(const std::vector<int64_t>& width, int64_t max_rows) {
  std::map<int64_t, std::vector<size_t>> by_width;
  for (size_t i = 0; i < width.size(); ++i) by_width[width[i]].push_back(i);
  std::vector<std::vector<size_t>> out;
  for (const auto& [W, idx] : by_width) {
    const size_t rows = static_cast<size_t>(std::max<int64_t>(1, std::min(max_rows, kMaxBatchPositions / W)));
    for (size_t a = 0; a < idx.size(); a += rows)
      out.emplace_back(idx.begin() + a, idx.begin() + std::min(idx.size(), a + rows));
  }
  return out;
}

void gradient_norms(LanguageModel& m, const std::vector<Sequence>& seqs, const std::vector<Position>& pos, int K,
                    ProbeReport& report) {
  std::vector<int64_t> begin(pos.size()), width(pos.size());
  for (size_t i = 0; i < pos.size(); ++i) {
    begin[i] = m.carries_state() ? std::max(pos[i].start, pos[i].t - K) : pos[i].start;
    width[i] = pos[i].t - begin[i] + 1;
  }
  const std::vector<std::unique_ptr<LmState>> starts = start_states(m, seqs, pos, begin);
  std::vector<double> sums(K + 1, 0.0);
  report.gradient_positions.assign(K + 1, 0);
  for (const std::vector<size_t>& chunk : chunks_by_width(width, kMaxGradientRows)) {
    const int64_t R = static_cast<int64_t>(chunk.size()), W = width[chunk[0]];
    std::vector<int32_t> inputs, targets;
    std::vector<const LmState*> states;
    for (size_t i : chunk) {
      const Sequence& s = seqs[pos[i].seq];
      inputs.insert(inputs.end(), s.input.begin() + begin[i], s.input.begin() + pos[i].t + 1);
      targets.push_back(s.target[pos[i].t]);
      states.push_back(starts[i].get());
    }
    const Tensor norms = m.state_gradient_norms(inputs, R, W, targets, *m.stack(states));
    for (int64_t r = 0; r < R; ++r)
      for (int64_t k = 0; k < std::min<int64_t>(W, K + 1); ++k) {
        sums[k] += norms[r * W + W - 1 - k];
        ++report.gradient_positions[k];
      }
  }
  report.gradient_norm.assign(K + 1, 0.0);
  for (int k = 0; k <= K; ++k)
    if (report.gradient_positions[k] > 0) report.gradient_norm[k] = sums[k] / report.gradient_positions[k];
}

// The perplexity of the positions when the model reads only their last k inputs: after the
// begin token <s> in sentence mode (every sequence such a model saw started with one), alone
// in stream mode (a stream has no start).
double context_perplexity(LanguageModel& m, const std::vector<Sequence>& seqs, const std::vector<Position>& pos,
                          int k) {
  std::vector<int64_t> first(pos.size()), width(pos.size());
  std::vector<bool> begin(pos.size());
  for (size_t i = 0; i < pos.size(); ++i) {
    first[i] = std::max(pos[i].start, pos[i].t - k + 1);
    begin[i] = !m.stream_mode() && first[i] > 0;
    width[i] = pos[i].t - first[i] + 1 + begin[i];
  }
  NoGradScope no_grad;
  Rng unused(0);
  double nll = 0;
  for (const std::vector<size_t>& chunk : chunks_by_width(width, kMaxBatchPositions)) {
    TargetBatch b;
    b.batch = static_cast<int64_t>(chunk.size());
    b.length = width[chunk[0]];
    for (size_t i : chunk) {
      const Sequence& s = seqs[pos[i].seq];
      if (begin[i]) b.input.push_back(m.begin_token());
      b.input.insert(b.input.end(), s.input.begin() + first[i], s.input.begin() + pos[i].t + 1);
      b.output.resize(b.input.size(), 0);  // only the last position counts
      b.output.back() = s.target[pos[i].t];
    }
    b.lengths.assign(b.batch, static_cast<int>(b.length));
    b.tokens = b.batch;
    const Var losses = m.token_losses(b, nullptr, 0.0f, false, unused);
    for (int64_t r = 0; r < b.batch; ++r) nll += losses->value[r * b.length + b.length - 1];
  }
  return std::exp(nll / static_cast<double>(pos.size()));
}

}  // namespace

void ProbeOptions::validate() const {
  if (max_distance < 0) throw OptionError(cat("max-distance must be >= 0, got ", max_distance));
  if (context_lengths.empty()) throw OptionError("context-lengths must name at least one length, got none");
  for (int k : context_lengths)
    if (k < 1) throw OptionError(cat("context-lengths must be >= 1 each, got ", k));
  if (positions < 1) throw OptionError(cat("positions must be >= 1, got ", positions));
}

ProbeReport probe(LanguageModel& model, const LmText& text, const ProbeOptions& options) {
  options.validate();
  ProbeReport r;
  const std::vector<Sequence> seqs = sequences_of(model, text);
  r.text_positions = text.pieces();
  const std::vector<Position> pos = probed_positions(model, seqs, r.text_positions, options.positions);
  r.positions = static_cast<int64_t>(pos.size());
  const std::vector<float> lp = position_log_probs(model, text, LmScoreOptions{});
  double all = 0, probed = 0;
  for (float x : lp) all -= x;
  for (const Position& p : pos) probed -= lp[seqs[p.seq].first + p.t];
  r.text_perplexity = std::exp(all / static_cast<double>(lp.size()));
  r.perplexity = std::exp(probed / static_cast<double>(pos.size()));
  gradient_norms(model, seqs, pos, options.max_distance, r);
  for (int k : options.context_lengths) r.context_perplexity.push_back(context_perplexity(model, seqs, pos, k));
  return r;
}

}  // namespace nmt
