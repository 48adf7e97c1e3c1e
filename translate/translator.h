// Translating many sentences: sorts them by length into mini-batches (so a batch wastes
// little on padding), searches each batch, and returns the results in input order.
// An empty input (no pieces) gives an empty translation without running the model.
//
// With a WorkerPool, the mini-batches run side by side, each on one worker (longest first,
// so that no worker is left with a long batch at the end), and fewer sentences than a
// mini-batch a worker are cut into one batch a worker; a call with a single mini-batch runs
// on the calling thread and all of its threads. A sentence's translation does not
// depend on which thread or batch computed it: its scores agree within float rounding, so
// only a tie within that rounding could change its words (docs/design.md, "Batch
// independence"; tested through nmt translate and nmt score on every ISA).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/worker_pool.h"
#include "model/model.h"
#include "tokenization/vocab.h"
#include "translate/search.h"

namespace nmt {

// Named in messages by the keys mini-batch and max-input-length (and those of SearchOptions).
struct TranslateOptions {
  SearchOptions search;
  int mini_batch = 64;            // sentences per batch
  int max_input_length = 0;       // pieces; longer inputs are cut to it (0: no limit)
  bool int8 = false;              // linear layers in int8 (ops/linear_int8.h): gemm-type int8
  WorkerPool* workers = nullptr;  // run mini-batches on these threads (null: on the caller's)
  // Called after each mini-batch with the number of sentences translated so far (from one
  // thread at a time, maybe not the caller's).
  std::function<void(size_t)> progress;

  // Throws OptionError naming the first option that breaks its rule. translate_ids calls it.
  void validate() const;
};

struct Translation {
  std::vector<Hypothesis> hypotheses;  // best first; empty for an empty input line
  std::vector<int32_t> source;         // the (primary member's) source ids searched, </s> included; empty for an
                                       // empty input
  bool truncated = false;              // the input had more than max_input_length pieces
};

// The gemm-type option: "float32" (false) or "int8" (true); anything else throws OptionError.
bool parse_gemm_type(const std::string& name);

// `sources[i]` is sentence i as each member of the ensemble reads it (piece ids without </s>;
// translate/ensemble.h); a sentence empty for every member is an empty input. Batches are
// sorted by the longest of a sentence's sources; Translation::source holds the primary
// member's ids.
std::vector<Translation> translate_ids(Ensemble& ensemble, const std::vector<MemberSources>& sources,
                                       const TranslateOptions& options);
// One model: `sources` are piece ids without </s>.
std::vector<Translation> translate_ids(Model& model, const std::vector<std::vector<int32_t>>& sources,
                                       const TranslateOptions& options);
// Convenience: text in, best translation's text out.
std::vector<std::string> translate_lines(Model& model, const Vocab& src_vocab, const Vocab& trg_vocab,
                                         const std::vector<std::string>& lines, const TranslateOptions& options);

}  // namespace nmt
