// A language model as an ensemble member (lm/fusion.h), in the library, on tiny random models:
//  - greedy and beam search's scores are the fused forced-decoding scores of their outputs (the
//    member's steps agree with its teacher-forced log-probabilities), for RNN and transformer
//    language models in sentence and stream mode (which read </s> first);
//  - its forced log-probabilities are its own scoring's (lm/score.h) of the target as a line;
//  - over a shortlist's columns a step gives the full step's log-probabilities renormalised.
// Through the binary: tests/cli_fusion_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/graph.h"
#include "lm/fusion.h"
#include "lm/score.h"
#include "lm/text.h"
#include "synthetic.h"
#include "translate/score.h"
#include "translate/translator.h"

namespace nmt {
namespace {

constexpr int64_t kVocab = 20;

LoadedLm tiny_lm(const std::string& type, const std::string& mode, uint64_t seed) {
  ModelConfig c = ModelConfig::preset(type);
  c.cell = "gru";
  c.dec_depth = 2;
  c.dim_emb = 8;
  c.dim_rnn = 12;
  c.transformer_heads = 2;
  c.transformer_dim_ffn = 16;
  c.dropout = c.transformer_dropout = 0;
  c.lm_mode = mode;
  c.trg_vocab_size = kVocab;
  LoadedLm lm;
  lm.model = make_language_model(c, seed);
  for (int64_t i = 0; i < lm.model->params().size(); ++i) lm.model->params().values()[i] *= 3.0f;
  return lm;
}

struct Kind {
  std::string type, mode;
};
const std::vector<Kind> kKinds = {
    {"lm", "sentence"}, {"lm", "stream"}, {"lm-transformer", "sentence"}, {"lm-transformer", "stream"}};

TEST(LmFusion, SearchScoresAreTheFusedForcedScores) {
  Context::get().set_threads(1);
  const auto model = testing::tiny_random_model("attention", kVocab, 3, 8.0f);
  const auto sources = testing::random_ids({3, 7, 1, 5, 9, 2, 6}, kVocab, 11);
  for (const Kind& k : kKinds) {
    SCOPED_TRACE(k.type + " " + k.mode);
    std::vector<std::unique_ptr<Member>> members;
    members.push_back(std::make_unique<ModelMember>(*model));
    members.push_back(std::make_unique<LmMember>(tiny_lm(k.type, k.mode, 5)));
    Ensemble ensemble(std::move(members), {1.0f, 0.7f});
    std::vector<MemberSources> per_member;
    for (const auto& s : sources) per_member.push_back({s, {}});
    for (int beam : {1, 4}) {
      TranslateOptions o;
      o.search.beam_size = beam;
      o.search.normalize = 0;
      o.mini_batch = 3;
      const auto fused = translate_ids(ensemble, per_member, o);
      std::vector<std::vector<int32_t>> targets;
      for (const auto& t : fused) targets.push_back(t.hypotheses.at(0).tokens);
      const auto forced = score_ids(ensemble, per_member, targets, ScoreOptions{});
      ASSERT_EQ(forced.size(), fused.size());
      for (size_t i = 0; i < forced.size(); ++i) {
        const double searched = fused[i].hypotheses[0].score;
        EXPECT_NEAR(forced[i].log_prob, searched, 1e-3 + 1e-4 * std::fabs(searched)) << "beam " << beam << " " << i;
      }
    }
  }
}

TEST(LmFusion, ForcedLogProbsAreTheModelsScoresOfTheLine) {
  const auto targets = testing::random_ids({4, 0, 9, 2}, kVocab, 13);
  for (const Kind& k : kKinds) {
    SCOPED_TRACE(k.type + " " + k.mode);
    LoadedLm lm = tiny_lm(k.type, k.mode, 7);
    LanguageModel& model = *lm.model;
    LmMember member(std::move(lm));
    NoGradScope no_grad;
    const TargetBatch trg = TargetBatch::from(targets);
    const std::vector<float> lp = member.forced_log_probs(
        SourceBatch::from(std::vector<std::vector<int32_t>>(targets.size(), {Vocab::kEos})), trg);
    for (size_t n = 0; n < targets.size(); ++n) {
      LmText line;  // the target alone: a sentence, or a stream of one line read after </s>
      line.lines = {targets[n]};
      const double want = score_text(model, line, {}).log_prob;
      double got = 0;
      for (int t = 0; t < trg.lengths[n]; ++t) got += lp[n * trg.length + t];
      EXPECT_NEAR(got, want, 1e-4 * (1 + std::fabs(want))) << "target " << n;
    }
  }
}

TEST(LmFusion, AShortlistsColumnsAreRenormalised) {
  const std::vector<int32_t> columns = {3, 4, 7, 11, 19};
  for (const Kind& k : kKinds) {
    SCOPED_TRACE(k.type + " " + k.mode);
    LmMember member(tiny_lm(k.type, k.mode, 9));
    NoGradScope no_grad;
    const SourceBatch src = SourceBatch::from({{Vocab::kEos}, {Vocab::kEos}});
    auto full = member.start(src, {});
    auto cut = member.start(src, columns);
    for (const std::vector<int32_t>& previous : std::vector<std::vector<int32_t>>{{Vocab::kBos, Vocab::kBos}, {5, 8}}) {
      const Tensor a = member.step(*full, previous), b = member.step(*cut, previous);
      ASSERT_EQ(b.shape(), (Shape{2, static_cast<int64_t>(columns.size())}));
      for (int64_t r = 0; r < 2; ++r) {
        double z = 0;
        for (int32_t c : columns) z += std::exp(static_cast<double>(a[r * kVocab + c]));
        for (size_t c = 0; c < columns.size(); ++c)
          EXPECT_NEAR(b[r * columns.size() + c], a[r * kVocab + columns[c]] - std::log(z), 1e-4) << r << " " << c;
      }
    }
  }
}

}  // namespace
}  // namespace nmt
