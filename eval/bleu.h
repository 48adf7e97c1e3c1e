// Corpus BLEU exactly as sacreBLEU 2.x computes it (sacrebleu/metrics/bleu.py): per
// segment clipped n-gram counts against the reference(s), summed over the corpus, then
// precisions, smoothing and brevity penalty from the totals. Defaults are sacreBLEU's:
// 13a tokenizer, mixed case, n-grams 1..4, smoothing "exp", no effective order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/tokenize.h"

namespace nmt {

enum class BleuSmooth {
  kExp,    // mteval-v13a: the k-th order with no match gets precision 100 / (2^k * total)
  kNone,   // no smoothing
  kFloor,  // zero-match orders get precision 100 * smooth_value / total (default 0.1)
  kAddK,   // orders 2.. get smooth_value added to matches and totals (default 1)
};

const char* smooth_name(BleuSmooth s);  // "exp", "none", "floor", "add-k"

struct BleuOptions {
  BleuTokenizer tokenize = BleuTokenizer::k13a;
  bool lowercase = false;
  BleuSmooth smooth = BleuSmooth::kExp;
  std::optional<double> smooth_value;  // unset: 0.1 for floor, 1 for add-k
  int max_ngram_order = 4;
  bool effective_order = false;  // sentence-level BLEU: skip orders with no n-grams
};

// Sufficient statistics; they add up over segments.
struct BleuStats {
  int64_t hyp_len = 0;
  int64_t ref_len = 0;           // closest reference length (ties: the shorter)
  std::vector<int64_t> correct;  // clipped matches per order 1..max_ngram_order
  std::vector<int64_t> total;    // hypothesis n-grams per order
  explicit BleuStats(int max_order = 4) : correct(max_order, 0), total(max_order, 0) {}
  BleuStats& operator+=(const BleuStats& o);
};

struct BleuResult {
  double score = 0;                // 0..100
  std::vector<double> counts;      // matches per order (add-k smoothing included)
  std::vector<double> totals;      // n-grams per order (add-k smoothing included)
  std::vector<double> precisions;  // 0..100 per order
  double bp = 0;                   // brevity penalty
  double ratio = 0;                // hyp_len / ref_len (0 when ref_len is 0)
  int64_t hyp_len = 0;
  int64_t ref_len = 0;
  // sacreBLEU's text line: "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944
  // hyp_len = 17 ref_len = 18)"; width = digits of the score.
  std::string format(int width = 2) const;
};

// sacreBLEU's preprocessing of one segment: optional lowercasing, rstrip, tokenization;
// returns the tokens joined by single spaces (UTF-8).
std::string bleu_preprocess(const std::string& segment, const BleuOptions& opts);

// Statistics of one hypothesis against its references (at least one).
BleuStats bleu_segment_stats(const std::string& hyp, const std::vector<std::string>& refs, const BleuOptions& opts);

// The score from (summed) statistics: sacreBLEU's BLEU.compute_bleu.
BleuResult compute_bleu(const BleuStats& stats, const BleuOptions& opts);

// hyps[i] is scored against refs[i]. Throws InputError when the counts differ.
BleuResult corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                       const BleuOptions& opts = {});
// Several reference streams: ref_streams[k][i] is the k-th reference of hyps[i].
// (A separate name: braced lists of strings would make an overload ambiguous.)
BleuResult corpus_bleu_multi(const std::vector<std::string>& hyps,
                             const std::vector<std::vector<std::string>>& ref_streams, const BleuOptions& opts = {});

// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:nmt-eval"
std::string bleu_signature(const BleuOptions& opts, int nrefs = 1);

}  // namespace nmt
