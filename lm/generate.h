// Generating text with a language model (nmt generate): continuations of a prompt, drawn
// piece by piece until </s> or max-length pieces.
//
//   greedy      the most probable piece (the lowest id among equals)
//   full        a draw from softmax(logits / temperature)
//   topk K      a draw from the K most probable pieces, renormalised (Fan et al. 2018)
//   topp P      a draw from the smallest set of most probable pieces whose probability is
//               at least P, renormalised (nucleus sampling, Holtzman et al. 2020)
// Temperature 0 is greedy whatever the method. <pad>, <s> and <unk> are never drawn. Sample
// j of prompt i draws from its own generator, seeded by (seed, i, j): the same seed gives the
// same samples whatever the other prompts and samples.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/random.h"
#include "lm/language_model.h"

namespace nmt {

// Named in messages by the keys sampling, temperature, samples, max-length and seed.
struct GenerateOptions {
  std::string sampling = "greedy";  // greedy | full | topk | topp
  int top_k = 0;                    // topk
  float top_p = 0;                  // topp
  float temperature = 1.0f;
  int samples = 1;       // continuations per prompt
  int max_length = 100;  // pieces generated at most, </s> not counted
  uint64_t seed = 1;

  // Throws OptionError naming the first option that breaks its rule. generate() calls it.
  void validate() const;
};

// The sampling option's words, "greedy", "full", "topk K" or "topp P", into `options`;
// OptionError otherwise.
void parse_sampling(const std::vector<std::string>& words, GenerateOptions& options);

// The piece drawn from one row of logits [V] as `options` say.
int32_t pick_token(const float* logits, int64_t V, const GenerateOptions& options, Rng& rng);

// options.samples continuations of `prompt` (piece ids, read after the model's begin token),
// without </s>; prompt_index picks the generators (see above).
std::vector<std::vector<int32_t>> generate(LanguageModel& model, const std::vector<int32_t>& prompt,
                                           uint64_t prompt_index, const GenerateOptions& options);

}  // namespace nmt
