// The ensemble interface (translate/member.h, translate/ensemble.h) with a member that reads no
// source: a stand-in for a target-side language model (shallow fusion) that gives every token
// the same log-probability. Adding the same amount to every token changes no greedy choice, so
// the ensemble translates as the model alone and its scores are the model's plus
// weight x tokens x log(1/V); forced decoding likewise.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/error.h"
#include "synthetic.h"
#include "translate/ensemble.h"
#include "translate/score.h"
#include "translate/translator.h"

namespace nmt {
namespace {

class UniformState : public MemberState {
 public:
  UniformState(int64_t rows, int64_t columns) : rows_(rows), columns_(columns) {}
  void select(const std::vector<int32_t>& rows) override { rows_ = static_cast<int64_t>(rows.size()); }
  int64_t rows_, columns_;
};

// Every token equally likely: log(1/V) (or log(1/|columns|) over a shortlist).
class UniformMember : public Member {
 public:
  explicit UniformMember(int64_t vocab) : vocab_(vocab) {}
  bool reads_source() const override { return false; }
  int64_t target_vocab_size() const override { return vocab_; }
  bool has_attention() const override { return false; }
  std::string kind() const override { return "uniform"; }
  std::unique_ptr<MemberState> start(const SourceBatch& src, const std::vector<int32_t>& columns) override {
    return std::make_unique<UniformState>(src.batch, columns.empty() ? vocab_ : static_cast<int64_t>(columns.size()));
  }
  Tensor step(MemberState& state, const std::vector<int32_t>& previous) override {
    auto& s = static_cast<UniformState&>(state);
    EXPECT_EQ(s.rows_, static_cast<int64_t>(previous.size()));
    return Tensor::full({s.rows_, s.columns_}, -std::log(static_cast<float>(s.columns_)));
  }
  std::vector<float> forced_log_probs(const SourceBatch& src, const TargetBatch& trg) override {
    return std::vector<float>(trg.output.size(), -std::log(static_cast<float>(vocab_)));
  }

 private:
  int64_t vocab_;
};

constexpr int64_t kVocab = 20;

TEST(TranslateEnsemble, AMemberWithoutSourceJoinsWithItsWeight) {
  Context::get().set_threads(1);
  const auto model = testing::tiny_random_model("attention", kVocab, 3, 8.0f);
  const auto sources = testing::random_ids({3, 7, 1, 5, 9, 2}, kVocab, 11);
  std::vector<std::unique_ptr<Member>> members;
  members.push_back(std::make_unique<ModelMember>(*model));
  members.push_back(std::make_unique<UniformMember>(kVocab));
  const float w = 0.5f;
  Ensemble ensemble(std::move(members), {1.0f, w});
  EXPECT_EQ(ensemble.primary(), 0u);
  std::vector<MemberSources> per_member;
  for (const auto& s : sources) per_member.push_back({s, {}});

  TranslateOptions o;
  o.search.beam_size = 1;
  o.search.normalize = 0;
  o.mini_batch = 4;
  const auto alone = translate_ids(*model, sources, o);
  const auto fused = translate_ids(ensemble, per_member, o);
  const float per_token = -std::log(static_cast<float>(kVocab));
  ASSERT_EQ(alone.size(), fused.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    const Hypothesis &a = alone[i].hypotheses.at(0), &f = fused[i].hypotheses.at(0);
    EXPECT_EQ(f.tokens, a.tokens) << i;
    const float tokens = static_cast<float>(a.tokens.size() + 1);
    EXPECT_NEAR(f.score, a.score + w * tokens * per_token, 1e-3f * tokens) << i;
    EXPECT_EQ(fused[i].source, alone[i].source) << i;
  }

  std::vector<std::vector<int32_t>> targets;
  for (const auto& t : alone) targets.push_back(t.hypotheses[0].tokens);
  const auto scored_alone = score_ids(*model, sources, targets, ScoreOptions{});
  const auto scored = score_ids(ensemble, per_member, targets, ScoreOptions{});
  for (size_t i = 0; i < scored.size(); ++i)
    EXPECT_NEAR(scored[i].log_prob, scored_alone[i].log_prob + w * scored[i].tokens * per_token, 1e-4) << i;
}

TEST(TranslateEnsemble, RefusesWhatCannotBeAnEnsemble) {
  const auto model = testing::tiny_random_model("attention", kVocab, 3, 1.0f);
  auto make = [&](int64_t lm_vocab, std::vector<float> weights, bool with_model) {
    std::vector<std::unique_ptr<Member>> members;
    if (with_model) members.push_back(std::make_unique<ModelMember>(*model));
    members.push_back(std::make_unique<UniformMember>(lm_vocab));
    Ensemble e(std::move(members), std::move(weights));
  };
  EXPECT_NO_THROW(make(kVocab, {1, 1}, true));
  EXPECT_THROW(make(kVocab + 1, {1, 1}, true), InputError);  // another target vocabulary
  EXPECT_THROW(make(kVocab, {1}, true), OptionError);        // a weight short
  EXPECT_THROW(make(kVocab, {1, NAN}, true), OptionError);   // not finite
  EXPECT_THROW(make(kVocab, {1}, false), InputError);        // nothing reads the source
}

}  // namespace
}  // namespace nmt
