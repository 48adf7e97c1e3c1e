#include "eval/length_buckets.h"

#include <map>

#include "core/error.h"
#include "eval/unicode.h"

namespace nmt {

std::vector<LengthBucket> bleu_by_source_length_multi(const std::vector<std::string>& sources,
                                                      const std::vector<std::string>& hyps,
                                                      const std::vector<std::vector<std::string>>& ref_streams,
                                                      int64_t bucket_size, const BleuOptions& opts) {
  if (bucket_size < 1) throw InputError(cat("BLEU by length: bucket size must be >= 1, got ", bucket_size));
  if (ref_streams.empty()) throw InputError("BLEU by length: no reference stream given");
  if (sources.size() != hyps.size())
    throw InputError(cat("BLEU by length: ", sources.size(), " sources but ", hyps.size(), " hypotheses"));
  for (size_t k = 0; k < ref_streams.size(); ++k)
    if (ref_streams[k].size() != hyps.size())
      throw InputError(cat("BLEU by length: ", hyps.size(), " hypotheses but ", ref_streams[k].size(),
                           " lines in reference ", k + 1));
  std::map<int64_t, std::pair<int64_t, BleuStats>> buckets;  // index -> (sentences, stats)
  std::vector<std::string> refs(ref_streams.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    const int64_t words = static_cast<int64_t>(unicode::split(unicode::decode_utf8(sources[i])).size());
    const int64_t index = words > 0 ? (words - 1) / bucket_size : 0;
    auto it = buckets.try_emplace(index, 0, BleuStats(opts.max_ngram_order)).first;
    for (size_t k = 0; k < ref_streams.size(); ++k) refs[k] = ref_streams[k][i];
    it->second.first += 1;
    it->second.second += bleu_segment_stats(hyps[i], refs, opts);
  }
  std::vector<LengthBucket> out;
  for (const auto& [index, entry] : buckets) {
    LengthBucket b;
    b.min_words = index * bucket_size + 1;
    b.max_words = (index + 1) * bucket_size;
    b.sentences = entry.first;
    b.bleu = compute_bleu(entry.second, opts);
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<LengthBucket> bleu_by_source_length(const std::vector<std::string>& sources,
                                                const std::vector<std::string>& hyps,
                                                const std::vector<std::string>& refs, int64_t bucket_size,
                                                const BleuOptions& opts) {
  if (refs.size() != hyps.size())
    throw InputError(cat("BLEU by length: ", hyps.size(), " hypotheses but ", refs.size(), " references"));
  return bleu_by_source_length_multi(sources, hyps, {refs}, bucket_size, opts);
}

}  // namespace nmt
