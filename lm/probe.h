// The vanishing gradient, measured on real text (nmt lm-probe; Bengio et al. 1994, Pascanu
// et al. 2013), and how much of the context a model uses (Khandelwal et al. 2018):
//
//  - gradient norms: for probed positions t and k = 0 .. max-distance, the norm of
//    dJ(t)/dh(t - k), J(t) = -log p(y_t | context), averaged over the positions whose
//    context reaches back k. h(s) is the state after reading input s: an RNN's hidden states
//    of every layer (one norm over all of them), a transformer's input to its first layer
//    (embedding plus position). The model reads as in validation, the whole context: an RNN
//    from the start of its line (sentence mode) or of the text (stream mode, the state
//    carried), a transformer from the start of its line or of its window of bptt positions.
//    An RNN's gradient is exact from the window [t - max-distance, t] on, started from the
//    state the whole context leaves there.
//  - context perplexity: the perplexity of the probed positions when the model reads only the
//    last k inputs (k in context-lengths) from a fresh state, beside their perplexity with the
//    whole context. In sentence mode the k inputs follow <s> (every sequence such a model saw
//    started with one: it reads them as the start of a line); in stream mode they stand alone.
//
// At most `positions` positions are probed, evenly spread over the text.
#pragma once

#include <cstdint>
#include <vector>

#include "lm/language_model.h"
#include "lm/text.h"

namespace nmt {

// Named in messages by the keys max-distance, context-lengths and positions.
struct ProbeOptions {
  int max_distance = 50;
  std::vector<int> context_lengths = {1, 2, 4, 8, 16, 32, 64};
  int64_t positions = 1000;

  // Throws OptionError naming the first option that breaks its rule. probe() calls it.
  void validate() const;
};

struct ProbeReport {
  int64_t text_positions = 0;               // positions predicted in the text (its pieces and one </s> a line)
  int64_t positions = 0;                    // of them probed
  double text_perplexity = 0;               // per piece, whole context, every position
  double perplexity = 0;                    // per piece, whole context, the probed positions
  std::vector<double> gradient_norm;        // k = 0 .. max-distance
  std::vector<int64_t> gradient_positions;  // the probed positions averaged at each k
  std::vector<double> context_perplexity;   // one per context length
};

ProbeReport probe(LanguageModel& model, const LmText& text, const ProbeOptions& options);

}  // namespace nmt
