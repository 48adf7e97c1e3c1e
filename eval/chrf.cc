#include "eval/chrf.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "eval/unicode.h"

namespace nmt {
namespace {

// Character n-gram counts of one segment, one table per order; the keys view `text`.
struct CharNgrams {
  std::u32string text;
  std::vector<std::unordered_map<std::u32string_view, int64_t>> counts;
};

CharNgrams extract(const std::string& segment, const ChrfOptions& opts) {
  CharNgrams g;
  std::u32string s = unicode::decode_utf8(segment);
  if (opts.lowercase) s = unicode::lower(s);
  if (opts.whitespace) {
    g.text = std::move(s);
  } else {
    for (auto w : unicode::split(s)) g.text.append(w);  // ''.join(line.split())
  }
  const std::u32string_view t = g.text;
  g.counts.resize(opts.char_order);
  for (int n = 1; n <= opts.char_order; ++n)
    for (size_t i = 0; i + n <= t.size(); ++i) ++g.counts[n - 1][t.substr(i, n)];
  return g;
}

void check_options(const ChrfOptions& opts) {
  if (opts.char_order < 1) throw InputError(cat("chrF: char_order must be >= 1, got ", opts.char_order));
  if (opts.beta < 0) throw InputError(cat("chrF: beta must be >= 0, got ", opts.beta));
}

}  // namespace

ChrfStats& ChrfStats::operator+=(const ChrfStats& o) {
  if (o.hyp.size() != hyp.size())
    throw Error(cat("ChrfStats: adding statistics of ", o.hyp.size(), " orders to ", hyp.size()));
  for (size_t n = 0; n < hyp.size(); ++n) {
    hyp[n] += o.hyp[n];
    ref[n] += o.ref[n];
    match[n] += o.match[n];
  }
  return *this;
}

std::string ChrfResult::name() const { return cat("chrF", beta); }

std::string ChrfResult::format(int width) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", width, score);
  return name() + " = " + buf;
}

double chrf_f_score(const ChrfStats& stats, const ChrfOptions& opts) {
  check_options(opts);
  const size_t order = stats.hyp.size();
  const double eps = 1e-16;
  const int factor = opts.beta * opts.beta;
  double score = 0.0, avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (size_t i = 0; i < order; ++i) {
    const int64_t n_hyp = stats.hyp[i], n_ref = stats.ref[i], n_match = stats.match[i];
    const double prec = n_hyp > 0 ? static_cast<double>(n_match) / static_cast<double>(n_hyp) : eps;
    const double rec = n_ref > 0 ? static_cast<double>(n_match) / static_cast<double>(n_ref) : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec / denom) : eps;
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (opts.eps_smoothing) return 100 * score / static_cast<double>(order);
  if (effective_order == 0) {
    avg_prec = avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec != 0.0) {
    double f = (1 + factor) * avg_prec * avg_rec;
    f /= (factor * avg_prec) + avg_rec;
    return 100 * f;
  }
  return 0.0;
}

ChrfStats chrf_segment_stats(const std::string& hyp, const std::vector<std::string>& refs, const ChrfOptions& opts) {
  check_options(opts);
  if (refs.empty()) throw InputError("chrF: a hypothesis needs at least one reference, got none");
  const CharNgrams h = extract(hyp, opts);
  ChrfStats best(opts.char_order);
  double best_f = -1.0;
  for (const auto& ref : refs) {
    const CharNgrams r = extract(ref, opts);
    ChrfStats stats(opts.char_order);
    for (int n = 0; n < opts.char_order; ++n) {
      const auto& hc = h.counts[n];
      const auto& rc = r.counts[n];
      int64_t hyp_count = 0, match = 0, ref_count = 0;
      for (const auto& [ngram, count] : hc) {
        hyp_count += count;
        auto it = rc.find(ngram);
        if (it != rc.end()) match += std::min(count, it->second);
      }
      for (const auto& kv : rc) ref_count += kv.second;
      // sacreBLEU does not count hypothesis n-grams of an order the reference lacks.
      stats.hyp[n] = rc.empty() ? 0 : hyp_count;
      stats.ref[n] = ref_count;
      stats.match[n] = match;
    }
    const double f = chrf_f_score(stats, opts);
    if (f > best_f) {
      best_f = f;
      best = stats;
    }
  }
  return best;
}

ChrfResult corpus_chrf_multi(const std::vector<std::string>& hyps,
                             const std::vector<std::vector<std::string>>& ref_streams, const ChrfOptions& opts) {
  check_options(opts);
  if (ref_streams.empty()) throw InputError("chrF: no reference stream given");
  for (size_t k = 0; k < ref_streams.size(); ++k)
    if (ref_streams[k].size() != hyps.size())
      throw InputError(
          cat("chrF: ", hyps.size(), " hypotheses but ", ref_streams[k].size(), " lines in reference ", k + 1));
  ChrfStats total(opts.char_order);
  std::vector<std::string> refs(ref_streams.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (size_t k = 0; k < ref_streams.size(); ++k) refs[k] = ref_streams[k][i];
    total += chrf_segment_stats(hyps[i], refs, opts);
  }
  ChrfResult r;
  r.beta = opts.beta;
  r.score = chrf_f_score(total, opts);
  return r;
}

ChrfResult corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                       const ChrfOptions& opts) {
  if (hyps.size() != refs.size())
    throw InputError(cat("chrF: ", hyps.size(), " hypotheses but ", refs.size(), " references"));
  return corpus_chrf_multi(hyps, {refs}, opts);
}

std::string chrf_signature(const ChrfOptions& opts, int nrefs) {
  return cat("nrefs:", nrefs, "|case:", opts.lowercase ? "lc" : "mixed", "|eff:", opts.eps_smoothing ? "no" : "yes",
             "|nc:", opts.char_order, "|nw:0|space:", opts.whitespace ? "yes" : "no", "|version:nmt-eval");
}

}  // namespace nmt
