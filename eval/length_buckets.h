// BLEU broken down by source sentence length, to compare models on short and long inputs.
// Sentences go to buckets of `bucket_size` source words (whitespace-separated, untokenized):
// 1..N, N+1..2N, ...; an empty source line counts in the first bucket.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/bleu.h"

namespace nmt {

struct LengthBucket {
  int64_t min_words = 0;  // inclusive
  int64_t max_words = 0;  // inclusive
  int64_t sentences = 0;
  BleuResult bleu;  // corpus BLEU of the bucket's sentences
};

// The non-empty buckets, shortest first. Throws InputError when the line counts differ or
// bucket_size < 1.
std::vector<LengthBucket> bleu_by_source_length(const std::vector<std::string>& sources,
                                                const std::vector<std::string>& hyps,
                                                const std::vector<std::string>& refs, int64_t bucket_size,
                                                const BleuOptions& opts = {});
// Several reference streams: ref_streams[k][i] is the k-th reference of hyps[i].
std::vector<LengthBucket> bleu_by_source_length_multi(const std::vector<std::string>& sources,
                                                      const std::vector<std::string>& hyps,
                                                      const std::vector<std::vector<std::string>>& ref_streams,
                                                      int64_t bucket_size, const BleuOptions& opts = {});

}  // namespace nmt
