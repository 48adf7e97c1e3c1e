// Validation during training: cross-entropy and perplexity of the validation set
// (teacher forcing, no label smoothing, no dropout) and BLEU of its greedy translations.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/model.h"

namespace nmt {

class Validator {
 public:
  Validator(const std::string& src_path, const std::string& trg_path, const Vocab& src_vocab, const Vocab& trg_vocab,
            int mini_batch, int64_t max_bleu_sentences);
  // metric name -> value, for the metrics asked: "ce" (mean per target token),
  // "perplexity", "bleu". With `translations`, the greedy translations of the validation
  // sources (one per line, line i answering line i) are made and stored there even when
  // BLEU is not asked for.
  std::map<std::string, double> run(Model& model, const std::vector<std::string>& metrics,
                                    std::vector<std::string>* translations = nullptr);
  // Whether a larger value of `metric` is better.
  static bool higher_is_better(const std::string& metric);

 private:
  const Vocab& src_vocab_;
  const Vocab& trg_vocab_;
  int mini_batch_;
  std::vector<std::string> src_lines_, ref_lines_;
  std::vector<std::vector<int32_t>> src_ids_, trg_ids_;
};

}  // namespace nmt
