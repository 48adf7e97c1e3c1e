// Language models learn a synthetic language to near its entropy, through the built binary:
// `nmt train` on lines a^n b^n ("a a a b b b"), n uniform in 1..8, then `nmt score` of
// held-out lines. A line's probability under the language is 1/8 whatever n, so the best
// perplexity per word (whitespace-separated words plus one </s> a line, so that it does not
// depend on how SentencePiece cuts the words) is exp(lines * log 8 / words). Reaching it
// needs counting: after the a's the model must give </s> its due after exactly n b's, and the
// switch to b the hazard 1 / (9 - i) after i a's.
//
// Measured (one core, seeds 1-3): an LSTM of 32 came within 0.5-1.6% of the optimum in 1,500
// updates (about 1 s), in stream mode (windows of 25, the state carried) within 0.5%; a
// transformer of 2 layers of 32 within 0.4-0.7% (about 4 s). The tests ask for 3%, and that
// 45 of 50 sampled lines (full sampling) are balanced, a^n b^n (47-50 were, over 4 models and
// 3 seeds; what little is missing is the end at n = 8: the lines that were not in the language
// were mostly a^9 b^9 to a^12 b^12).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "synthetic.h"

namespace nmt {
namespace {

using testing::RunResult;

constexpr int kMaxN = 8;

std::vector<std::string> an_bn(int lines, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> n_of(1, kMaxN);
  std::vector<std::string> out;
  for (int i = 0; i < lines; ++i) {
    const int n = n_of(rng);
    std::string l;
    for (int k = 0; k < 2 * n; ++k) l += std::string(k ? " " : "") + (k < n ? "a" : "b");
    out.push_back(l);
  }
  return out;
}

// a^n b^n for any n >= 1: as many b's as a's, the counting. (A model that stops short of
// certainty about the largest n sometimes writes 9 to 14 a's, and mostly counts them back.)
bool balanced(const std::string& line) {
  const std::vector<std::string> w = testing::split_words(line);
  const size_t n = w.size() / 2;
  if (w.size() % 2 || n < 1) return false;
  for (size_t k = 0; k < w.size(); ++k)
    if (w[k] != (k < n ? "a" : "b")) return false;
  return true;
}

class LmLearningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_lines(dir_.path("train.txt"), an_bn(4000, 1));
    valid_ = an_bn(300, 2);
    testing::write_lines(dir_.path("valid.txt"), valid_);
    int64_t words = 0;
    for (const std::string& l : valid_) words += static_cast<int64_t>(testing::split_words(l).size()) + 1;
    best_ = std::exp(static_cast<double>(valid_.size()) * std::log(kMaxN) / static_cast<double>(words));
  }

  // Trains MODEL and checks its perplexity per word on the held-out lines and, with
  // `samples`, that the lines it generates count: a^n b^n.
  void learns(const std::string& name, const std::string& options, bool samples = true) {
    const std::string model = dir_.path(name + ".bin");
    RunResult r =
        testing::run_nmt(dir_, "train -t '" + dir_.path("train.txt") + "' --valid-sets '" + dir_.path("valid.txt") +
                                   "' -v '" + dir_.path("v.spm") + "' --vocab-size 8 -m '" + model +
                                   "' --dropout 0 --mini-batch-words 500 --learn-rate 3e-3 --after 1500u "
                                   "--valid-freq 500u --cpu-threads 1 " +
                                   options);
    ASSERT_EQ(r.code, 0) << r.err;
    r = testing::run_nmt(
        dir_, "score -m '" + model + ".best-perplexity' -i '" + dir_.path("valid.txt") + "' --cpu-threads 1");
    ASSERT_EQ(r.code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(per word ([0-9.]+))"))) << r.err;
    const double per_word = std::stod(m[1]);
    std::cout << "[ " << name << " ] perplexity per word " << per_word << ", the language's " << best_ << "\n";
    EXPECT_LE(per_word, 1.03 * best_) << name;
    EXPECT_GE(per_word, 0.98 * best_) << name;
    if (!samples) return;
    r = testing::run_nmt(dir_, "generate -m '" + model +
                                   ".best-perplexity' -n 50 --sampling full --max-length 40 "
                                   "--cpu-threads 1");
    ASSERT_EQ(r.code, 0) << r.err;
    int good = 0;
    for (const std::string& line : testing::split_lines(r.out)) good += balanced(line);
    EXPECT_GE(good, 45) << name << ": sampled lines a^n b^n\n" << r.out;
  }

  testing::TempDir dir_{"nmt_lm_learning"};
  std::vector<std::string> valid_;
  double best_ = 0;
};

TEST_F(LmLearningTest, LstmCountsAnBn) {
  learns("lstm", "--type lm --cell lstm --dim-emb 16 --dim-rnn 32 --dec-depth 1");
  // It uses the context: with the last input alone it could not count.
  const RunResult r =
      testing::run_nmt(dir_, "lm-probe -m '" + dir_.path("lstm.bin.best-perplexity") + "' -i '" +
                                 dir_.path("valid.txt") + "' --context-lengths 1 --max-distance 4 --cpu-threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  std::smatch one, whole;
  ASSERT_TRUE(std::regex_search(r.out, one, std::regex(R"(context\t1\t([0-9.]+))"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, whole, std::regex(R"(context\twhole\t([0-9.]+))"))) << r.out;
  EXPECT_GT(std::stod(one[1]), 1.2 * std::stod(whole[1])) << r.out;
}

// In stream mode the state is never reset between lines, and the model learns to count from
// whatever the previous line left: it scores the validation stream near the optimum, but the
// lines it generates from a fresh state (which training showed it only at the start of each
// row) do not count right (docs/design.md, "Language models"), so they are not checked here.
TEST_F(LmLearningTest, LstmInStreamModeCountsAnBn) {
  learns("stream", "--type lm --cell lstm --dim-emb 16 --dim-rnn 32 --dec-depth 1 --lm-mode stream --bptt 25", false);
}

TEST_F(LmLearningTest, TransformerCountsAnBn) {
  learns("transformer",
         "--type lm-transformer --dim-emb 32 --transformer-dim-ffn 64 --dec-depth 2 --transformer-dropout 0 "
         "--lr-warmup 200");
}

}  // namespace
}  // namespace nmt
