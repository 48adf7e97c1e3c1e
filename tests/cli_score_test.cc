// Runs the built `nmt score` (NMT_BINARY) end to end with a tiny random-weight model
// saved here: output format and values (against score_ids and against the scores beam
// search gives its own outputs), empty lines, batching, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "translate/score.h"
#include "translate/translator.h"

namespace nmt {
namespace {

using testing::contains_text;
using testing::join_lines;
using testing::make_text;
using Result = testing::RunResult;
using testing::slurp;
using testing::split_lines;

const std::vector<std::string> kSrc = {"ka lo", "", "mi ne su ta ro", "vi", "kalo mine", "ta ta ta su", "lo"};
const std::vector<std::string> kTrg = {"lo ka", "ne", "", "vivi su", "minekalo ro ro", "su", "lo lo lo lo"};

class CliScoreTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    set_up_models("nmt_cli_score", 3, {"attention"}, 4);
    write("src.txt", join_lines(kSrc));
    write("trg.txt", join_lines(kTrg));
    write_gz("trg.txt.gz", join_lines(kTrg));
  }

  static std::vector<std::pair<double, double>> parse(const std::string& out) {
    std::vector<std::pair<double, double>> v;
    const std::regex re(R"(^(-?\d+\.\d{4}) (-?\d+\.\d{4})$)");
    for (const auto& l : split_lines(out)) {
      std::smatch m;
      EXPECT_TRUE(std::regex_match(l, m, re)) << "'" << l << "'";
      if (m.size() == 3) v.emplace_back(std::stod(m[1]), std::stod(m[2]));
    }
    return v;
  }
};

TEST_F(CliScoreTest, PrintsTotalAndAverageLogProbPerLine) {
  const Result r = nmt("score " + model_arg() + " -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto got = parse(r.out);
  ASSERT_EQ(got.size(), kSrc.size());
  std::vector<std::vector<int32_t>> s, t;
  for (size_t i = 0; i < kSrc.size(); ++i) {
    s.push_back(model_->src_vocab->encode(kSrc[i]));
    t.push_back(model_->trg_vocab->encode(kTrg[i]));
  }
  const auto want = score_ids(*model_->model, s, t, ScoreOptions{});
  for (size_t i = 0; i < kSrc.size(); ++i) {
    EXPECT_NEAR(got[i].first, want[i].log_prob, 1e-3) << "line " << i;
    EXPECT_NEAR(got[i].second, want[i].log_prob / (t[i].size() + 1), 1e-3) << "line " << i;
    EXPECT_LT(got[i].first, 0) << "line " << i;
  }
  // Sentence by sentence (--mini-batch 1), a gzip target and an output file give the same.
  const Result one = nmt("score " + model_arg() + " --mini-batch 1 -t '" + path("src.txt") + "' '" +
                         path("trg.txt.gz") + "' -o '" + path("scores.txt") + "'");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "");
  EXPECT_EQ(slurp(path("scores.txt")), r.out);
  // Batches of two scored side by side by three workers give the same.
  const Result workers = nmt("score " + model_arg() + " --mini-batch 2 --workers 3 -t '" + path("src.txt") + "' '" +
                             path("trg.txt") + "'");
  ASSERT_EQ(workers.code, 0) << workers.err;
  EXPECT_EQ(workers.out, r.out);
  // The source may come from stdin.
  const Result piped = nmt("score " + model_arg() + " -t - '" + path("trg.txt") + "' < '" + path("src.txt") + "'");
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, r.out);
}

TEST_F(CliScoreTest, AgreesWithTheScoresOfSearch) {
  // Translate with nmt translate --n-best, then score the outputs with nmt score.
  const std::vector<std::string> src = make_text(12, 77);
  write("s.txt", join_lines(src));
  const Result tr = nmt("translate " + model_arg() + " -b 3 --n-best --n-best-size 1 -i '" + path("s.txt") + "'");
  ASSERT_EQ(tr.code, 0) << tr.err;
  const auto nbest = split_lines(tr.out);
  ASSERT_EQ(nbest.size(), src.size());
  std::vector<std::string> hyps;
  std::vector<double> f0;
  const std::regex re(R"(^\d+ \|\|\| (.*) \|\|\| F0= (\S+) \|\|\| \S+$)");
  for (const auto& l : nbest) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, re)) << l;
    hyps.push_back(m[1]);
    f0.push_back(std::stod(m[2]));
  }
  write("h.txt", join_lines(hyps));
  const Result sc = nmt("score " + model_arg() + " -t '" + path("s.txt") + "' '" + path("h.txt") + "'");
  ASSERT_EQ(sc.code, 0) << sc.err;
  const auto got = parse(sc.out);
  ASSERT_EQ(got.size(), src.size());
  // In-process: which outputs survive decode -> encode unchanged.
  std::vector<std::vector<int32_t>> ids;
  for (const auto& l : src) ids.push_back(model_->src_vocab->encode(l));
  const auto t = expected(src, beam(3));
  for (size_t i = 0; i < src.size(); ++i) {
    const auto& h = t[i].hypotheses[0];
    ASSERT_EQ(model_->trg_vocab->decode(h.tokens), hyps[i]);
    // The printed F0 is the forced-decoding score of the hypothesis' own pieces...
    const auto forced = score_ids(*model_->model, {ids[i]}, {h.tokens}, ScoreOptions{})[0];
    EXPECT_NEAR(f0[i], forced.log_prob, 1e-3 * std::max(1.0, std::abs(f0[i]))) << "line " << i;
    // ... and what nmt score prints for its text, when the text encodes back to those
    // pieces (random models often emit piece sequences that do not).
    if (model_->trg_vocab->encode(hyps[i]) == h.tokens) {
      EXPECT_NEAR(got[i].first, f0[i], 1e-3 * std::max(1.0, std::abs(f0[i]))) << "line " << i << ": " << hyps[i];
    }
  }
}

TEST_F(CliScoreTest, Errors) {
  write("short.txt", "ka\nlo\n");
  const Result mismatch = nmt("score " + model_arg() + " -t '" + path("src.txt") + "' '" + path("short.txt") + "'");
  EXPECT_EQ(mismatch.code, 1);
  EXPECT_TRUE(contains_text(mismatch.err, path("src.txt"))) << mismatch.err;
  EXPECT_TRUE(contains_text(mismatch.err, path("short.txt"))) << mismatch.err;
  EXPECT_TRUE(contains_text(mismatch.err, "7 lines")) << mismatch.err;
  EXPECT_EQ(mismatch.out, "");

  const Result missing =
      nmt("score -m '" + path("nope.bin") + "' -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(contains_text(missing.err, path("nope.bin"))) << missing.err;

  std::string bytes = slurp(path("attention.bin"));
  bytes[bytes.size() / 3] ^= 0x01;
  write("corrupt.bin", bytes);
  const Result corrupt =
      nmt("score -m '" + path("corrupt.bin") + "' -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_TRUE(contains_text(corrupt.err, path("corrupt.bin"))) << corrupt.err;

  const Result no_model = nmt("score -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(no_model.code, 2);
  const Result one_file = nmt("score " + model_arg() + " -t '" + path("src.txt") + "'");
  EXPECT_EQ(one_file.code, 2);
  EXPECT_TRUE(contains_text(one_file.err, "two files")) << one_file.err;
  const Result missing_text = nmt("score " + model_arg() + " -t '" + path("src.txt") + "' '" + path("nope.txt") + "'");
  EXPECT_EQ(missing_text.code, 1);
  EXPECT_TRUE(contains_text(missing_text.err, path("nope.txt"))) << missing_text.err;
  const Result bad_workers =
      nmt("score " + model_arg() + " --workers -1 -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(bad_workers.code, 2);
  EXPECT_TRUE(contains_text(bad_workers.err, "workers must be >= 0, got -1")) << bad_workers.err;
}

}  // namespace
}  // namespace nmt
