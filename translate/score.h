// Forced decoding: the log-probability a model gives a given target sentence for its
// source (teacher forcing, no dropout, no label smoothing), as `nmt score` prints it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/worker_pool.h"
#include "model/model.h"
#include "translate/ensemble.h"

namespace nmt {

struct SentenceScore {
  double log_prob = 0;  // sum of natural-log probabilities of the target pieces and </s>
  int tokens = 0;       // target pieces + 1 (</s>)
  double average() const { return tokens > 0 ? log_prob / tokens : 0.0; }
};

struct ScoreOptions {
  int mini_batch = 64;            // sentences per batch (the key mini-batch in messages)
  int64_t max_rows = 8192;        // a batch is split so that sentences x longest target <= this (bounds
                                  // the [rows, vocabulary] logits); a longer sentence goes alone
  WorkerPool* workers = nullptr;  // score batches side by side on these (translate/translator.h)

  // Throws OptionError naming the first option that breaks its rule. score_ids calls it.
  void validate() const;
};

// `sources[i]` is sentence i's source as each member of the ensemble reads it and
// `targets[i]` its target, piece ids without </s> (either may be empty). A sentence's score is
// the weighted sum of the members' scores. Batched by length; the results are in input order.
std::vector<SentenceScore> score_ids(Ensemble& ensemble, const std::vector<MemberSources>& sources,
                                     const std::vector<std::vector<int32_t>>& targets, const ScoreOptions& options);
// One model: `sources` are its piece ids.
std::vector<SentenceScore> score_ids(Model& model, const std::vector<std::vector<int32_t>>& sources,
                                     const std::vector<std::vector<int32_t>>& targets, const ScoreOptions& options);

}  // namespace nmt
