// Ensembles through the built binary: `nmt translate -m A B [--weights ...]` and `nmt score`
// with several models (translate/ensemble.h). One model as an ensemble and two copies of a model
// translate as the model; an ensemble's forced-decoding score is the weighted sum of its
// members'; its translations do not depend on the batch; a member with another target
// vocabulary is refused before anything is translated; a transformer and an attention RNN, and
// models with different source vocabularies, make ensembles.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "model/model.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;
using testing::contains_text;
using testing::join_lines;
using Result = testing::RunResult;
using testing::split_lines;

const std::vector<std::string> kInput = {
    "ka lo", "",      "mi ne su ta ro", "vi", "kalo mine sutaro vi ka", "lo lo", "ta ta ta",
    "su",    "ne mi", "rovi kata lomi"};
const std::vector<std::string> kTarget = {"lo ka", "",   "ro ta su ne mi", "vi",    "ka vi sutaro mine kalo",
                                          "lo",    "ta", "su su",          "mi ne", "lomi kata rovi"};

// A tiny model of `type` (8 wide, random weights scaled 8x) with its own vocabularies.
void save_tiny(const std::string& path, const std::string& type, const Vocab& src, const Vocab& trg, uint64_t seed) {
  ModelConfig c = ModelConfig::preset(type);
  c.dim_emb = c.dim_rnn = c.dim_att = 8;
  c.dropout = 0;
  c.tied_embeddings_all = false;
  c.src_vocab_size = src.size();
  c.trg_vocab_size = trg.size();
  Model m(c, seed);
  for (int64_t i = 0; i < m.params().size(); ++i) m.params().values()[i] *= 8.0f;
  save_model(path, m, src, trg);
}

class CliEnsembleTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    set_up_models("nmt_cli_ensemble", 7, {"attention", "transformer", "bottleneck"}, 5);
    const Vocab other = train_other_vocab();
    save_tiny(path("other_src.bin"), "attention", other, *vocab_, 8);  // another source vocabulary
    save_tiny(path("other_trg.bin"), "attention", *vocab_, other, 9);  // another target vocabulary
    write("in.txt", join_lines(kInput));
    write("trg.txt", join_lines(kTarget));
    const std::string corpus = "'" + path("corpus.txt") + "'";
    const Result made = nmt("shortlist -t " + corpus + " " + corpus + " -m '" + path("attention.bin") + "' -o '" +
                            path("lex.txt") + "' --first 3 --best 2");
    ASSERT_EQ(made.code, 0) << made.err;
  }

  // "-m 'A.bin' 'B.bin' ... --cpu-threads 1"
  static std::string models(const std::vector<std::string>& names) {
    std::string s = "-m";
    for (const auto& n : names) s += " '" + path(n + ".bin") + "'";
    return s + " --cpu-threads 1";
  }
  static std::string translate(const std::string& args) {
    const Result r = nmt("translate " + args + " -i '" + path("in.txt") + "'");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return r.out;
  }
  static std::string score(const std::string& args) {
    const Result r = nmt("score " + args + " -t '" + path("in.txt") + "' '" + path("trg.txt") + "'");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return r.out;
  }
  static std::vector<double> scores(const std::string& out) { return testing::first_scores(out); }
  // The searches every test runs: greedy, beam with n-best lists, int8, a shortlist.
  static std::vector<std::string> search_options() {
    return {"-b 1", "-b 5 --n-best", "-b 4 --n-best --gemm-type int8",
            "-b 3 --n-best --shortlist '" + path("lex.txt") + "'"};
  }
  // The texts of n-best lines.
  static std::vector<std::string> texts(const std::string& out) {
    std::vector<std::string> v;
    for (const auto& l : split_lines(out)) {
      const size_t a = l.find(" ||| "), b = l.find(" ||| F0=");
      v.push_back(l.substr(a + 5, b - a - 5));
    }
    return v;
  }
};

TEST_F(CliEnsembleTest, OneModelIsTheModel) {
  for (const std::string type : {"attention", "transformer"})
    for (const std::string& opts : search_options()) {
      SCOPED_TRACE(type + " " + opts);
      const std::string alone = translate(models({type}) + " " + opts);
      EXPECT_EQ(translate(models({type}) + " --weights 1 " + opts), alone);
    }
  EXPECT_EQ(score(models({"attention"}) + " --weights 1"), score(models({"attention"})));
}

TEST_F(CliEnsembleTest, TwoCopiesTranslateAsTheModel) {
  for (const std::string type : {"attention", "transformer", "bottleneck"})
    for (const std::string& opts : search_options()) {
      SCOPED_TRACE(type + " " + opts);
      const std::string alone = translate(models({type}) + " " + opts);
      // Weights 1 and 1: the same translations, each score twice the model's.
      const std::string twice = translate(models({type, type}) + " --weights 1 1 " + opts);
      if (contains_text(opts, "--n-best")) {
        EXPECT_EQ(texts(twice), texts(alone));
        const auto s1 = scores(alone), s2 = scores(twice);
        ASSERT_EQ(s1.size(), s2.size());
        for (size_t i = 0; i < s1.size(); ++i) EXPECT_NEAR(s2[i], 2 * s1[i], 1e-3 + 1e-5 * std::fabs(s1[i])) << i;
      } else {
        EXPECT_EQ(twice, alone);
      }
      // Weights 0.5 and 0.5 (and the default, 1 1, for the text): the model's output to the byte.
      EXPECT_EQ(translate(models({type, type}) + " --weights 0.5 0.5 " + opts), alone);
    }
  EXPECT_EQ(split_lines(translate(models({"attention", "attention"}) + " -b 5")),
            split_lines(translate(models({"attention"}) + " -b 5")));
}

TEST_F(CliEnsembleTest, ScoreIsTheWeightedSumOfTheMembersScores) {
  struct Case {
    std::vector<std::string> members;
    std::vector<double> weights;
  };
  const std::vector<Case> cases = {
      {{"attention", "transformer"}, {0.3, 0.7}},
      {{"attention", "other_src"}, {1, 1}},  // each reads the source with its own vocabulary
      {{"transformer", "attention", "bottleneck"}, {1, 0.5, 0.25}},
  };
  for (const Case& c : cases) {
    std::string weights;
    for (double w : c.weights) weights += " " + std::to_string(w);
    SCOPED_TRACE(weights);
    const std::string out = score(models(c.members) + " --weights" + weights);
    const std::vector<double> got = scores(out);
    std::vector<double> want(got.size(), 0.0);
    for (size_t m = 0; m < c.members.size(); ++m) {
      const std::vector<double> member = scores(score(models({c.members[m]})));
      ASSERT_EQ(member.size(), got.size());
      for (size_t i = 0; i < got.size(); ++i) want[i] += c.weights[m] * member[i];
    }
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-3) << "line " << i;
    // The second column is the total over the target tokens, as for one model.
    const auto lines = split_lines(out);
    for (size_t i = 0; i < lines.size(); ++i) {
      const double average = std::stod(lines[i].substr(lines[i].find(' ') + 1));
      const double tokens = got[i] / average;
      EXPECT_NEAR(tokens, std::round(tokens), 1e-2) << lines[i];
    }
  }
}

// The same translations, their scores within float rounding (docs/design.md, "Batch
// independence"). Not with a shortlist, whose vocabulary is each mini-batch's.
TEST_F(CliEnsembleTest, TranslationsDoNotDependOnTheBatch) {
  const std::string ensemble = models({"attention", "transformer", "other_src"}) + " --weights 1 0.6 0.4";
  for (const std::string opts : {"-b 1", "-b 5 --n-best", "-b 4 --n-best --gemm-type int8"}) {
    SCOPED_TRACE(opts);
    const std::string one = translate(ensemble + " --mini-batch 1 " + opts);
    for (const std::string batching : {"--mini-batch 64", "--mini-batch 3 --workers 2"}) {
      SCOPED_TRACE(batching);
      const std::string other = translate(ensemble + " " + batching + " " + opts);
      if (!contains_text(opts, "--n-best")) {
        EXPECT_EQ(other, one);
        continue;
      }
      EXPECT_EQ(texts(other), texts(one));
      const auto a = scores(one), b = scores(other);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * std::fabs(a[i]) + 1e-4) << i;
    }
  }
  const auto a = scores(score(ensemble + " --mini-batch 1")), b = scores(score(ensemble + " --mini-batch 64"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * std::fabs(a[i]) + 1e-4) << i;
}

TEST_F(CliEnsembleTest, AnotherTargetVocabularyIsRefusedBeforeAnyWork) {
  const std::string out = path("refused.txt");
  for (const std::string command : {"translate", "score"}) {
    SCOPED_TRACE(command);
    const std::string io = command == std::string("translate")
                               ? " -i '" + path("in.txt") + "' -o '" + out + "'"
                               : " -t '" + path("in.txt") + "' '" + path("trg.txt") + "' -o '" + out + "'";
    const Result r = nmt(command + " " + models({"attention", "other_trg"}) + io);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains_text(r.err, path("other_trg.bin") +
                                         ": its target vocabulary (30 pieces) differs from that of " +
                                         path("attention.bin") + " (24 pieces)"))
        << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  // One weight per model, finite.
  Result r = nmt("translate " + models({"attention", "transformer"}) + " --weights 1 < '" + path("in.txt") + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains_text(r.err, "weights must have one value per model, got 1 for 2 models")) << r.err;
  r = nmt("score " + models({"attention"}) + " --weights 1 2 -t '" + path("in.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains_text(r.err, "weights must have one value per model, got 2 for 1 model")) << r.err;
}

TEST_F(CliEnsembleTest, TransformerAndAttentionRnnTranslateTogether) {
  const std::string ensemble = models({"transformer", "attention"}) + " --weights 0.5 1";
  const auto greedy = split_lines(translate(ensemble + " -b 1"));
  ASSERT_EQ(greedy.size(), kInput.size());
  for (size_t i = 0; i < kInput.size(); ++i)
    EXPECT_EQ(greedy[i].empty(), vocab_->encode(kInput[i]).empty()) << "line " << i << ": " << greedy[i];
  // n-best lists with alignments (the first model's attention), int8 and the shortlist.
  const std::string nbest =
      translate(ensemble + " -b 4 --n-best --alignment hard --gemm-type int8 --shortlist '" + path("lex.txt") + "'");
  EXPECT_GE(split_lines(nbest).size(), kInput.size());
  EXPECT_TRUE(contains_text(nbest, "0 ||| ")) << nbest;
  // Greedy search's scores are those the ensemble gives its outputs in forced decoding.
  write("greedy.txt", join_lines(greedy));
  const Result forced = nmt("score " + ensemble + " -t '" + path("in.txt") + "' '" + path("greedy.txt") + "'");
  ASSERT_EQ(forced.code, 0) << forced.err;
  const std::string nbest1_out = translate(ensemble + " -b 1 --n-best --no-spm-decode");
  const auto nbest1 = scores(nbest1_out);
  const auto generated = texts(nbest1_out);
  const auto forced_scores = scores(forced.out);
  ASSERT_EQ(nbest1.size(), forced_scores.size());
  int compared = 0;
  for (size_t i = 0; i < nbest1.size(); ++i) {
    // A detokenized output may split into other pieces when read back; compare those that do not.
    std::string read_back;
    for (const auto& p : vocab_->pieces(vocab_->encode(greedy[i]))) read_back += (read_back.empty() ? "" : " ") + p;
    if (greedy[i].empty() || read_back != generated[i]) continue;
    EXPECT_NEAR(forced_scores[i], nbest1[i], 1e-3 + 1e-4 * std::fabs(nbest1[i])) << "line " << i;
    ++compared;
  }
  EXPECT_GT(compared, 0);
  // A bottleneck model first has no attention for --alignment.
  const Result r =
      nmt("translate " + models({"bottleneck", "attention"}) + " --alignment soft < '" + path("in.txt") + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, "has no attention")) << r.err;
}

}  // namespace
}  // namespace nmt
