// Corpus chrF exactly as sacreBLEU 2.x computes it (sacrebleu/metrics/chrf.py) with its
// defaults: character n-grams 1..6, beta 2, no word n-grams (chrF, not chrF++), whitespace
// removed, statistics summed over the corpus, then precision and recall averaged over the
// orders that have both hypothesis and reference n-grams ("effective order", eps_smoothing
// off) and one F-beta from the averages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nmt {

struct ChrfOptions {
  int char_order = 6;
  int beta = 2;
  bool lowercase = false;
  bool whitespace = false;     // keep whitespace inside character n-grams
  bool eps_smoothing = false;  // chrF++.py / NLTK / Moses style: mean of per-order F with eps
};

// Per order n = 1..char_order: hypothesis n-grams, reference n-grams, matches.
struct ChrfStats {
  std::vector<int64_t> hyp, ref, match;
  explicit ChrfStats(int char_order = 6) : hyp(char_order, 0), ref(char_order, 0), match(char_order, 0) {}
  ChrfStats& operator+=(const ChrfStats& o);
};

struct ChrfResult {
  double score = 0;  // 0..100
  int beta = 2;
  std::string name() const;                 // "chrF2"
  std::string format(int width = 2) const;  // "chrF2 = 55.12"
};

// Statistics of one hypothesis against its references (the one with the best F wins).
ChrfStats chrf_segment_stats(const std::string& hyp, const std::vector<std::string>& refs, const ChrfOptions& opts);

// sacreBLEU's CHRF._compute_f_score, 0..100.
double chrf_f_score(const ChrfStats& stats, const ChrfOptions& opts);

// hyps[i] is scored against refs[i]. Throws InputError when the counts differ.
ChrfResult corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                       const ChrfOptions& opts = {});
// Several reference streams: ref_streams[k][i] is the k-th reference of hyps[i].
ChrfResult corpus_chrf_multi(const std::vector<std::string>& hyps,
                             const std::vector<std::vector<std::string>>& ref_streams, const ChrfOptions& opts = {});

// "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:nmt-eval"
std::string chrf_signature(const ChrfOptions& opts, int nrefs = 1);

}  // namespace nmt
