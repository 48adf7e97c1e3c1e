#include "eval/bleu.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "core/error.h"
#include "eval/unicode.h"

namespace nmt {
namespace {

// N-grams of all orders keyed by their tokens joined with U' ' (tokens never contain
// whitespace, so the key is unambiguous and its order is one plus its number of spaces).
using NgramCounts = std::unordered_map<std::u32string, int64_t>;

std::u32string preprocess(const std::string& segment, const BleuOptions& opts) {
  std::u32string s = unicode::decode_utf8(segment);
  if (opts.lowercase) s = unicode::lower(s);
  return tokenize(unicode::rstrip(s), opts.tokenize);
}

// sacreBLEU's extract_all_word_ngrams: returns the counts and the number of tokens.
int64_t extract_ngrams(const std::u32string& line, int max_order, NgramCounts& counts) {
  const auto tokens = unicode::split(line);
  const int64_t len = static_cast<int64_t>(tokens.size());
  std::u32string key;
  for (int64_t i = 0; i < len; ++i) {
    key.clear();
    for (int64_t n = 1; n <= max_order && i + n <= len; ++n) {
      if (n > 1) key += U' ';
      key.append(tokens[i + n - 1]);
      ++counts[key];
    }
  }
  return len;
}

int order_of(const std::u32string& key) {
  int n = 1;
  for (char32_t c : key) n += c == U' ';
  return n;
}

double my_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

double default_smooth_value(BleuSmooth s) { return s == BleuSmooth::kFloor ? 0.1 : s == BleuSmooth::kAddK ? 1.0 : 0.0; }

void check_options(const BleuOptions& opts) {
  if (opts.max_ngram_order < 1) throw InputError(cat("BLEU: max_ngram_order must be >= 1, got ", opts.max_ngram_order));
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

const char* smooth_name(BleuSmooth s) {
  switch (s) {
    case BleuSmooth::kExp:
      return "exp";
    case BleuSmooth::kNone:
      return "none";
    case BleuSmooth::kFloor:
      return "floor";
    case BleuSmooth::kAddK:
      return "add-k";
  }
  return "?";
}

BleuStats& BleuStats::operator+=(const BleuStats& o) {
  if (o.correct.size() != correct.size() || o.total.size() != total.size())
    throw Error(cat("BleuStats: adding statistics of ", o.correct.size(), " orders to ", correct.size()));
  hyp_len += o.hyp_len;
  ref_len += o.ref_len;
  for (size_t n = 0; n < correct.size(); ++n) {
    correct[n] += o.correct[n];
    total[n] += o.total[n];
  }
  return *this;
}

std::string BleuResult::format(int width) const {
  std::string s = "BLEU = " + fixed(score, width) + " ";
  for (size_t n = 0; n < precisions.size(); ++n) s += (n ? "/" : "") + fixed(precisions[n], 1);
  s += " (BP = " + fixed(bp, 3) + " ratio = " + fixed(ratio, 3) + " hyp_len = " + std::to_string(hyp_len) +
       " ref_len = " + std::to_string(ref_len) + ")";
  return s;
}

std::string bleu_preprocess(const std::string& segment, const BleuOptions& opts) {
  return unicode::encode_utf8(preprocess(segment, opts));
}

BleuStats bleu_segment_stats(const std::string& hyp, const std::vector<std::string>& refs, const BleuOptions& opts) {
  check_options(opts);
  if (refs.empty()) throw InputError("BLEU: a hypothesis needs at least one reference, got none");
  const int max_order = opts.max_ngram_order;

  // Reference n-grams: the maximum count over the references.
  NgramCounts ref_ngrams;
  std::vector<int64_t> ref_lens;
  for (size_t k = 0; k < refs.size(); ++k) {
    NgramCounts these;
    ref_lens.push_back(extract_ngrams(preprocess(refs[k], opts), max_order, these));
    if (k == 0) {
      ref_ngrams = std::move(these);
    } else {
      for (auto& [ngram, count] : these) {
        int64_t& c = ref_ngrams[ngram];
        if (count > c) c = count;
      }
    }
  }

  NgramCounts hyp_ngrams;
  BleuStats stats(max_order);
  stats.hyp_len = extract_ngrams(preprocess(hyp, opts), max_order, hyp_ngrams);

  // Closest reference length; on a tie the shorter one.
  int64_t closest_diff = -1, closest_len = -1;
  for (int64_t len : ref_lens) {
    const int64_t diff = std::llabs(stats.hyp_len - len);
    if (closest_diff == -1 || diff < closest_diff) {
      closest_diff = diff;
      closest_len = len;
    } else if (diff == closest_diff && len < closest_len) {
      closest_len = len;
    }
  }
  stats.ref_len = closest_len;

  for (const auto& [ngram, count] : hyp_ngrams) {
    const int n = order_of(ngram) - 1;
    stats.total[n] += count;
    auto it = ref_ngrams.find(ngram);
    if (it != ref_ngrams.end()) stats.correct[n] += std::min(count, it->second);
  }
  return stats;
}

BleuResult compute_bleu(const BleuStats& stats, const BleuOptions& opts) {
  check_options(opts);
  const int max_order = opts.max_ngram_order;
  if (static_cast<int>(stats.correct.size()) != max_order || static_cast<int>(stats.total.size()) != max_order)
    throw Error(cat("compute_bleu: statistics have ", stats.correct.size(), " orders, options say ", max_order));
  const double smooth_value = opts.smooth_value ? *opts.smooth_value : default_smooth_value(opts.smooth);

  BleuResult r;
  r.hyp_len = stats.hyp_len;
  r.ref_len = stats.ref_len;
  r.ratio = stats.ref_len ? static_cast<double>(stats.hyp_len) / static_cast<double>(stats.ref_len) : 0.0;
  r.counts.assign(stats.correct.begin(), stats.correct.end());
  r.totals.assign(stats.total.begin(), stats.total.end());
  r.precisions.assign(max_order, 0.0);

  r.bp = 1.0;
  if (stats.hyp_len < stats.ref_len)
    r.bp = stats.hyp_len > 0 ? std::exp(1.0 - static_cast<double>(stats.ref_len) / static_cast<double>(stats.hyp_len))
                             : 0.0;

  // No match at all: 0 (sacreBLEU #141), whatever the smoothing.
  bool any = false;
  for (int64_t c : stats.correct) any = any || c != 0;
  if (!any) {
    r.score = 0.0;
    return r;
  }

  double smooth_mteval = 1.0;
  int eff_order = max_order;
  for (int n = 1; n <= max_order; ++n) {
    double& correct = r.counts[n - 1];
    double& total = r.totals[n - 1];
    if (opts.smooth == BleuSmooth::kAddK && n > 1) {
      correct += smooth_value;
      total += smooth_value;
    }
    if (total == 0) break;
    if (opts.effective_order) eff_order = n;
    if (correct == 0) {
      if (opts.smooth == BleuSmooth::kExp) {
        smooth_mteval *= 2;
        r.precisions[n - 1] = 100.0 / (smooth_mteval * total);
      } else if (opts.smooth == BleuSmooth::kFloor) {
        r.precisions[n - 1] = 100.0 * smooth_value / total;
      }
    } else {
      r.precisions[n - 1] = 100.0 * correct / total;
    }
  }
  double log_sum = 0.0;
  for (int n = 0; n < eff_order; ++n) log_sum += my_log(r.precisions[n]);
  r.score = r.bp * std::exp(log_sum / eff_order);
  return r;
}

BleuResult corpus_bleu_multi(const std::vector<std::string>& hyps,
                             const std::vector<std::vector<std::string>>& ref_streams, const BleuOptions& opts) {
  check_options(opts);
  if (ref_streams.empty()) throw InputError("BLEU: no reference stream given");
  for (size_t k = 0; k < ref_streams.size(); ++k)
    if (ref_streams[k].size() != hyps.size())
      throw InputError(
          cat("BLEU: ", hyps.size(), " hypotheses but ", ref_streams[k].size(), " lines in reference ", k + 1));
  BleuStats total(opts.max_ngram_order);
  std::vector<std::string> refs(ref_streams.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (size_t k = 0; k < ref_streams.size(); ++k) refs[k] = ref_streams[k][i];
    total += bleu_segment_stats(hyps[i], refs, opts);
  }
  return compute_bleu(total, opts);
}

BleuResult corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                       const BleuOptions& opts) {
  if (hyps.size() != refs.size())
    throw InputError(cat("BLEU: ", hyps.size(), " hypotheses but ", refs.size(), " references"));
  check_options(opts);
  BleuStats total(opts.max_ngram_order);
  std::vector<std::string> one(1);
  for (size_t i = 0; i < hyps.size(); ++i) {
    one[0] = refs[i];
    total += bleu_segment_stats(hyps[i], one, opts);
  }
  return compute_bleu(total, opts);
}

std::string bleu_signature(const BleuOptions& opts, int nrefs) {
  std::string smooth = smooth_name(opts.smooth);
  if (opts.smooth == BleuSmooth::kFloor || opts.smooth == BleuSmooth::kAddK)
    smooth += "[" + fixed(opts.smooth_value ? *opts.smooth_value : default_smooth_value(opts.smooth), 2) + "]";
  return cat("nrefs:", nrefs, "|case:", opts.lowercase ? "lc" : "mixed", "|eff:", opts.effective_order ? "yes" : "no",
             "|tok:", tokenizer_name(opts.tokenize), "|smooth:", smooth, "|version:nmt-eval");
}

}  // namespace nmt
