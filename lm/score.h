// Scoring text with a language model (nmt score -i): the log-probability of every position,
// each line's sum, and the perplexity per piece and per word. Sentence mode scores each line
// alone (<s> y1 .. yn </s>, batched by length); stream mode reads the text as one stream in
// windows of bptt, an RNN carrying its state through the whole text, exactly as validation
// does. No dropout, no label smoothing.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/worker_pool.h"
#include "lm/language_model.h"
#include "lm/text.h"
#include "translate/score.h"

namespace nmt {

struct LmScoreOptions {
  int mini_batch = 64;            // lines per batch in sentence mode (the key mini-batch in messages)
  int64_t max_rows = 8192;        // a batch is split so that lines x longest line <= this
  WorkerPool* workers = nullptr;  // sentence mode: batches side by side on these

  // Throws OptionError naming the first option that breaks its rule. score_text calls it.
  void validate() const;
};

struct LmScores {
  std::vector<SentenceScore> lines;  // each line's pieces and </s>
  double log_prob = 0;               // natural log, the whole text
  int64_t pieces = 0, words = 0;     // LmText::pieces(), LmText::words
  double piece_perplexity() const { return std::exp(-log_prob / static_cast<double>(pieces)); }
  double word_perplexity() const { return std::exp(-log_prob / static_cast<double>(words)); }
};

// log p of every position of the text in text order (each line's pieces, then its </s>: the
// order of make_stream's targets), with the model's whole context.
std::vector<float> position_log_probs(LanguageModel& model, const LmText& text, const LmScoreOptions& options);

LmScores score_text(LanguageModel& model, const LmText& text, const LmScoreOptions& options);

}  // namespace nmt
