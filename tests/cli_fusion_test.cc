// A language model in an ensemble (shallow fusion, lm/fusion.h) through the built binary:
// `nmt translate|score -m TM LM --weights 1 W`. Tiny random models (weights scaled up so that
// their distributions are far from flat) sharing one vocabulary:
//  - a forced-decoding score is the translation model's plus W times the language model's
//    score of the target alone, which nmt score -i gives (sentence mode; a stream-mode model
//    reads the target after its </s>, as a one-line text);
//  - weight 0 changes nothing, a large weight changes the translations, the order of -m does
//    not matter;
//  - a language model alone, or with another vocabulary, is refused naming the file.
// That search's scores are the fused forced-decoding scores: tests/lm_fusion_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "lm/language_model.h"

namespace nmt {
namespace {

using testing::contains_text;
using testing::join_lines;
using testing::split_lines;
using Result = testing::RunResult;

const std::vector<std::string> kInput = {
    "ka lo", "", "mi ne su ta ro", "vi", "kalo mine sutaro vi ka", "lo lo", "ta ta", "su", "ne mi", "rovi kata lomi"};
const std::vector<std::string> kTarget = {"lo ka", "",   "ro ta su ne mi", "vi",    "ka vi sutaro mine kalo",
                                          "lo",    "ta", "su su",          "mi ne", "lomi kata rovi"};

// A tiny language model of `type` (16 wide, random weights scaled by `scale`) predicting `vocab`.
void save_tiny_lm(const std::string& path, const std::string& type, const std::string& mode, const Vocab& vocab,
                  uint64_t seed, float scale) {
  ModelConfig c = ModelConfig::preset(type);
  c.cell = "lstm";
  c.dec_depth = 1;
  c.dim_emb = c.dim_rnn = c.transformer_dim_ffn = 16;
  c.transformer_heads = 2;
  c.lm_mode = mode;
  c.trg_vocab_size = vocab.size();
  auto m = make_language_model(c, seed);
  for (int64_t i = 0; i < m->params().size(); ++i) m->params().values()[i] *= scale;
  save_lm(path, *m, vocab);
}

class CliFusionTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    set_up_models("nmt_cli_fusion", 7, {"attention", "transformer"}, 5);
    save_tiny_lm(path("rnn_lm.bin"), "lm", "sentence", *vocab_, 3, 4.0f);
    save_tiny_lm(path("stream_lm.bin"), "lm-transformer", "stream", *vocab_, 4, 2.0f);
    save_tiny_lm(path("other_lm.bin"), "lm", "sentence", train_other_vocab(), 5, 1.0f);
    write("in.txt", join_lines(kInput));
    write("trg.txt", join_lines(kTarget));
    const std::string corpus = "'" + path("corpus.txt") + "'";
    const Result made = nmt("shortlist -t " + corpus + " " + corpus + " -m '" + path("attention.bin") + "' -o '" +
                            path("lex.txt") + "' --first 3 --best 2");
    ASSERT_EQ(made.code, 0) << made.err;
  }

  static std::string models(const std::vector<std::string>& names, const std::string& weights = "") {
    std::string s = "-m";
    for (const auto& n : names) s += " '" + path(n + ".bin") + "'";
    return s + (weights.empty() ? "" : " --weights " + weights) + " --cpu-threads 1";
  }
  static std::string translate(const std::string& args) {
    const Result r = nmt("translate " + args + " -i '" + path("in.txt") + "'");
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return r.out;
  }
  static std::vector<double> score(const std::string& args) {
    const Result r = nmt("score " + args);
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    return first_column(r.out);
  }
  static std::vector<double> first_column(const std::string& out) { return testing::first_scores(out); }
  static std::string pairs(const std::string& trg = "trg.txt") {
    return " -t '" + path("in.txt") + "' '" + path(trg) + "'";
  }
};

TEST_F(CliFusionTest, ScoreAddsTheWeightedLanguageModelScoreOfTheTarget) {
  const std::vector<double> tm = score(models({"attention"}) + pairs());
  // Sentence mode: nmt score -i scores each line as a sequence of its own.
  const std::vector<double> lm = score(models({"rnn_lm"}) + " -i '" + path("trg.txt") + "'");
  std::vector<double> fused = score(models({"attention", "rnn_lm"}, "1 0.3") + pairs());
  ASSERT_EQ(tm.size(), kTarget.size());
  ASSERT_EQ(lm.size(), kTarget.size());
  ASSERT_EQ(fused.size(), kTarget.size());
  for (size_t i = 0; i < fused.size(); ++i) EXPECT_NEAR(fused[i], tm[i] + 0.3 * lm[i], 1e-3) << "line " << i;
  // Stream mode: a target is read after </s>, as a text of that line alone.
  fused = score(models({"attention", "stream_lm"}, "1 0.5") + pairs());
  ASSERT_EQ(fused.size(), kTarget.size());
  for (size_t i = 0; i < kTarget.size(); ++i) {
    if (kTarget[i].empty()) continue;  // a text must not be empty
    write("line.txt", kTarget[i] + "\n");
    const std::vector<double> alone = score(models({"stream_lm"}) + " -i '" + path("line.txt") + "'");
    ASSERT_EQ(alone.size(), 1u);
    EXPECT_NEAR(fused[i], tm[i] + 0.5 * alone[0], 1e-3) << "line " << i;
  }
}

TEST_F(CliFusionTest, TheWeightDecidesWhatTheLanguageModelChanges) {
  const std::vector<std::string> searches = {
      "-b 1", "-b 4 --n-best", "-b 3 --n-best --shortlist '" + path("lex.txt") + "'", "-b 4 --gemm-type int8"};
  for (const std::string& opts : searches) {
    SCOPED_TRACE(opts);
    const std::string alone = translate(models({"attention"}) + " " + opts);
    // Weight 0: the translation model's output to the byte (0 times a finite log-probability).
    EXPECT_EQ(translate(models({"attention", "rnn_lm"}, "1 0") + " " + opts), alone);
    EXPECT_EQ(translate(models({"rnn_lm", "attention"}, "0 1") + " " + opts), alone);
  }
  // A heavy language model changes the translations; which model comes first does not.
  const std::string alone = translate(models({"attention"}) + " -b 1");
  const std::string heavy = translate(models({"attention", "rnn_lm"}, "1 3") + " -b 1");
  EXPECT_NE(heavy, alone);
  EXPECT_EQ(translate(models({"rnn_lm", "attention"}, "3 1") + " -b 1"), heavy);
  EXPECT_EQ(split_lines(heavy).size(), kInput.size());
}

TEST_F(CliFusionTest, WhatCannotFuseIsRefusedNamingTheFile) {
  for (const std::string command : {"translate", "score"}) {
    SCOPED_TRACE(command);
    const std::string io = command == std::string("translate") ? " -i '" + path("in.txt") + "'" : pairs();
    Result r = nmt(command + " " + models({"rnn_lm"}) + io);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains_text(r.err, path("rnn_lm.bin") + " is a language model (type lm): it reads no source"))
        << r.err;
    r = nmt(command + " " + models({"attention", "other_lm"}, "1 0.3") + io);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains_text(r.err, path("other_lm.bin") +
                                         ": its target vocabulary (30 pieces) differs from that of " +
                                         path("attention.bin") + " (24 pieces)"))
        << r.err;
  }
  // nmt score -i scores a text with one language model, not an ensemble.
  const Result r = nmt("score " + models({"rnn_lm", "rnn_lm"}) + " -i '" + path("trg.txt") + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains_text(r.err, "--input TEXT is scored by one language model, without --weights, got 2 models"))
      << r.err;
}

}  // namespace
}  // namespace nmt
