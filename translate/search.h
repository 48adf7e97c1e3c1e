// Greedy and beam search over a batch of source sentences.
//
// Both run the decoder one step at a time for every unfinished hypothesis of every
// sentence at once (one decoder call per step for the whole batch); finished sentences
// leave the batch (DecoderState::select) once the rest fit a smaller row_bucket. Scores are sums of natural-log
// probabilities,
// </s> included. <pad> and <s> are never generated, <unk> only with allow_unk.
//
// Length limit: a hypothesis has at most floor(max_length_factor * source pieces) +
// max_length_offset tokens before </s> (at least 1); at that length </s> is forced, so
// every score includes the </s> step and equals the teacher-forced score of the output.
//
// Beam search (as Marian's): each sentence keeps K = beam_size hypotheses; at every step
// the best K - |finished| expansions (by raw score) survive, those ending in </s> move to
// the finished list, so the beam shrinks as hypotheses finish and the sentence is done
// when K have finished (or none is alive). Finished hypotheses are ranked by
// score / (tokens + 1)^normalize (Marian's --normalize; the +1 is </s>). Equal scores are
// ordered by hypothesis, then token id, so results are deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "encoder/encoder.h"
#include "model/model.h"
#include "translate/ensemble.h"

namespace nmt {

class Shortlist;

// The keys that name these options in messages (core/error.h, OptionError): beam-size,
// n-best-size, normalize, max-length-factor, max-length-offset.
struct SearchOptions {
  int beam_size = 1;
  int n_best = 1;                  // hypotheses returned per sentence, in [1, beam_size]
  float normalize = 0.6f;          // length normalisation exponent (0: none)
  float max_length_factor = 2.0f;  // at most factor * source pieces + max_length_offset tokens
  int max_length_offset = 5;
  bool allow_unk = false;       // off: <unk> is never generated
  bool keep_alignment = false;  // keep the attention weights of every step
  // Score only each batch's shortlist vocabulary (translate/shortlist.h); null: all of it.
  const Shortlist* shortlist = nullptr;

  // Throws OptionError naming the first option that breaks its rule. search() calls it.
  void validate() const;
};

struct Hypothesis {
  std::vector<int32_t> tokens;  // without </s>
  float score = 0;              // sum of log-probabilities, </s> included
  float normalized_score = 0;   // score / (tokens + 1)^normalize: what beam search ranks by
  // With keep_alignment: one row per output token and one for </s> (tokens.size() + 1
  // rows), each the attention weights over the source positions (</s> included).
  std::vector<std::vector<float>> alignment;
};

// Throws InputError when the ensemble cannot give what `options` ask for: alignments
// (keep_alignment) from a primary member (translate/ensemble.h) without attention. The
// searches below call it; check_model_supports is the same for one model.
void check_ensemble_supports(const Ensemble& ensemble, const SearchOptions& options);
void check_model_supports(Model& model, const SearchOptions& options);

// The number of decoder state rows kept for n live hypotheses: n up to 4, then the
// next of 6, 8, 12, 16, 24, 32, ... Finished rows stay as filler until the live ones fit
// a smaller count, so the decoder sees a few batch shapes and their oneDNN primitives
// are reused, not rebuilt each time a sentence ends. Rows are independent: a filler
// row changes no other row's result.
size_t row_bucket(size_t n);

// The most tokens before </s> a hypothesis may have for a source of `source_length`
// ids (</s> included).
int max_output_length(const SearchOptions& options, int source_length);

// One expansion of a hypothesis: its row among the sentence's alive hypotheses and the token.
struct Expansion {
  float score;  // the hypothesis's score + the token's log-probability
  int32_t hyp, token;
};
// The best `capacity` expansions of hypotheses k = 0 .. base.size() - 1 of one sentence,
// best first: hypothesis k has score base[k] and log-probabilities lp[k * V, (k + 1) * V).
// Equal scores go to the lower hypothesis, then the lower token; -inf entries never enter.
// (Beam search's selection: it passes over blocks of a row whose largest entry cannot
// enter, so most of a row costs one vectorised maximum.)
std::vector<Expansion> best_expansions(const float* lp, int64_t V, const std::vector<float>& base, size_t capacity);

// The searches below run an ensemble (translate/ensemble.h): src[m] is the batch as member m
// reads it (the same sentences in the same order). Every step adds the members'
// log-probabilities, weighted; the length limit counts the longest of the members' sources,
// the shortlist's vocabulary and the alignments come from the primary member's. The Model
// overloads search with that model alone (Ensemble::of), exactly as the model.
//
// Hypotheses per sentence of `src`, best first (n_best of them; fewer only if fewer could
// be made). beam_size 1 runs greedy_search. Validates `options` (OptionError), and throws
// InputError for keep_alignment with a decoder that has no attention.
std::vector<std::vector<Hypothesis>> search(Ensemble& ensemble, const std::vector<SourceBatch>& src,
                                            const SearchOptions& options);
std::vector<std::vector<Hypothesis>> search(Model& model, const SourceBatch& src, const SearchOptions& options);

// Beam search as described above, whatever beam_size is (1 included).
std::vector<std::vector<Hypothesis>> beam_search(Ensemble& ensemble, const std::vector<SourceBatch>& src,
                                                 const SearchOptions& options);
std::vector<std::vector<Hypothesis>> beam_search(Model& model, const SourceBatch& src, const SearchOptions& options);

// Greedy search (argmax at every step, ties to the lowest id); equals beam search with
// beam_size 1. Uses neither beam_size nor n_best (both are still validated).
std::vector<Hypothesis> greedy_search(Ensemble& ensemble, const std::vector<SourceBatch>& src,
                                      const SearchOptions& options);
std::vector<Hypothesis> greedy_search(Model& model, const SourceBatch& src, const SearchOptions& options);

}  // namespace nmt
