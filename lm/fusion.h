// A language model as a member of a translation ensemble (translate/member.h): shallow fusion
// (Gulcehre et al. 2015), log p(y_t) = log p_TM(y_t | x, y_<t) + w log p_LM(y_t | y_<t), the
// language model reading the target prefix alone. It must predict the translation model's
// target vocabulary (the same SentencePiece model).
//
// Each target sentence is a sequence of its own for the language model: it starts fresh and
// reads its begin token first (<s>, or </s> for a model trained in stream mode, where a
// sentence follows the end of the previous line), then the target prefix.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lm/language_model.h"
#include "translate/ensemble.h"
#include "translate/member.h"

namespace nmt {

class LmMember : public Member {
 public:
  explicit LmMember(LoadedLm lm) : lm_(std::move(lm)) {}
  bool reads_source() const override { return false; }
  int64_t target_vocab_size() const override { return lm_.model->vocab_size(); }
  bool has_attention() const override { return false; }
  std::string kind() const override;
  std::unique_ptr<MemberState> start(const SourceBatch& src, const std::vector<int32_t>& columns) override;
  Tensor step(MemberState& state, const std::vector<int32_t>& previous) override;
  std::vector<float> forced_log_probs(const SourceBatch& src, const TargetBatch& trg) override;

 private:
  LoadedLm lm_;
};

// load_ensemble (translate/ensemble.h) with language models as members.
LoadedEnsemble load_fusion_ensemble(const std::vector<std::string>& paths, std::vector<float> weights);

}  // namespace nmt
