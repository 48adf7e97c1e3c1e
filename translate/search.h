// Greedy and beam search over a batch of source sentences.
//
// Both run the decoder one step at a time for every unfinished hypothesis of every
// sentence at once (one decoder call per step for the whole batch); finished
// sentences leave the batch. Scores are sums of log-probabilities; beam search ranks
// finished hypotheses by score / length^normalize (Marian's --normalize).
#pragma once

#include <cstdint>
#include <vector>

#include "encoder/encoder.h"
#include "model/model.h"

namespace nmt {

struct SearchOptions {
  int beam_size = 1;
  int n_best = 1;                  // hypotheses kept per sentence (<= beam_size)
  float normalize = 0.6f;          // length normalisation exponent (0: none)
  float max_length_factor = 2.0f;  // output at most factor * source length + max_length_offset tokens
  int max_length_offset = 5;
  bool allow_unk = false;          // off: <unk> is never generated
  bool keep_alignment = false;     // keep the attention weights of every step
};

struct Hypothesis {
  std::vector<int32_t> tokens;   // without </s>
  float score = 0;               // sum of log-probabilities, </s> included
  float normalized_score = 0;    // the score search ranked by
  // One row per output token (and </s>): attention weights over the source positions.
  std::vector<std::vector<float>> alignment;
};

// Hypotheses per sentence of `src`, best first (n_best of them).
std::vector<std::vector<Hypothesis>> search(Model& model, const SourceBatch& src, const SearchOptions& options);

// Greedy search (argmax at every step); equals beam search with beam_size 1.
std::vector<Hypothesis> greedy_search(Model& model, const SourceBatch& src, const SearchOptions& options);

}  // namespace nmt
