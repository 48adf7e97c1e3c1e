// Runs the built `nmt eval` binary (NMT_BINARY) end to end on files written here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_helpers.h"
#include "eval/bleu.h"
#include "eval/chrf.h"

namespace nmt {
namespace {

using testing::contains_text;
using testing::join_lines;

// The README example of sacreBLEU (its test_bleu.py): three hypotheses, two reference streams.
const std::vector<std::string> kHyps = {"The dog bit the man.", "It wasn't surprising.",
                                        "The man had just bitten him."};
const std::vector<std::string> kRef1 = {"The dog bit the man.", "It was not unexpected.", "The man bit him first."};
const std::vector<std::string> kRef2 = {"The dog had bit the man.", "No one was surprised.",
                                        "The man had bitten the dog."};

class CliEvalTest : public testing::FileTest {
 protected:
  void SetUp() override {
    open_dir("nmt_cli_eval");
    write("hyp.txt", join_lines(kHyps));
    write("ref1.txt", join_lines(kRef1));
    write("ref2.txt", join_lines(kRef2));
    write("src.txt", "ein Hund\nes war nicht überraschend und so weiter\nder Mann\n");
    write_gz("ref1.txt.gz", join_lines(kRef1));
  }
  void TearDown() override { close_dir(); }
};

TEST_F(CliEvalTest, HypothesesFromStdin) {
  const auto r = nmt("eval --ref " + path("ref1.txt") + " < " + path("hyp.txt"));
  ASSERT_EQ(r.code, 0) << r.err;
  // Same figures as the library, printed the way sacreBLEU prints them (these values are
  // also what sacreBLEU 2.6.0 prints for these files: BLEU 45.07, chrF2 50.04).
  const std::string expected = corpus_bleu(kHyps, kRef1).format() + "\n" + corpus_chrf(kHyps, kRef1).format() +
                               "\n"
                               "BLEU signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:nmt-eval\n"
                               "chrF2 signature: nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:nmt-eval\n";
  EXPECT_EQ(r.out, expected);
  EXPECT_TRUE(
      contains_text(r.out, "BLEU = 45.07 70.6/42.9/36.4/37.5 (BP = 1.000 ratio = 1.000 hyp_len = 17 ref_len = 17)"))
      << r.out;
  EXPECT_TRUE(contains_text(r.out, "chrF2 = 50.04")) << r.out;
}

TEST_F(CliEvalTest, FilesPlainAndGzipGiveTheSameResult) {
  const auto plain = nmt("eval --ref " + path("ref1.txt") + " --hyp " + path("hyp.txt"));
  const auto gz = nmt("eval -r " + path("ref1.txt.gz") + " -i " + path("hyp.txt"));
  ASSERT_EQ(plain.code, 0) << plain.err;
  ASSERT_EQ(gz.code, 0) << gz.err;
  EXPECT_EQ(plain.out, gz.out);
}

TEST_F(CliEvalTest, TwoReferencesMatchSacrebleusReadmeExample) {
  // sacreBLEU's test_bleu.py: 48.530827 for these hypotheses and both reference streams.
  const auto r =
      nmt("eval --ref " + path("ref1.txt") + " " + path("ref2.txt") + " --hyp " + path("hyp.txt") + " --metrics bleu");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)\n"
            "BLEU signature: nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:nmt-eval\n");
}

TEST_F(CliEvalTest, OptionsReachTheMetrics) {
  const auto r = nmt("eval --ref " + path("ref1.txt") + " --hyp " + path("hyp.txt") +
                     " --tokenize intl --lowercase --metrics chrf,bleu --width 4");
  ASSERT_EQ(r.code, 0) << r.err;
  BleuOptions b;
  b.tokenize = BleuTokenizer::kIntl;
  b.lowercase = true;
  ChrfOptions c;
  c.lowercase = true;
  EXPECT_TRUE(contains_text(r.out, corpus_bleu(kHyps, kRef1, b).format(4) + "\n")) << r.out;
  EXPECT_TRUE(contains_text(r.out, corpus_chrf(kHyps, kRef1, c).format(4) + "\n")) << r.out;
  EXPECT_TRUE(contains_text(r.out, "case:lc|eff:no|tok:intl")) << r.out;
  EXPECT_TRUE(contains_text(r.out, "nrefs:1|case:lc|eff:yes|nc:6")) << r.out;

  const auto chrf_only = nmt("eval --ref " + path("ref1.txt") + " --hyp " + path("hyp.txt") + " -m chrf");
  ASSERT_EQ(chrf_only.code, 0) << chrf_only.err;
  EXPECT_FALSE(contains_text(chrf_only.out, "BLEU")) << chrf_only.out;
  EXPECT_TRUE(contains_text(chrf_only.out, "chrF2 = 50.04\n")) << chrf_only.out;
}

TEST_F(CliEvalTest, ByLength) {
  // Source lengths 2, 7, 2 words: buckets 1-5 (lines 1 and 3) and 6-10 (line 2).
  const auto r =
      nmt("eval --ref " + path("ref1.txt") + " --hyp " + path("hyp.txt") + " --by-length 5 --src " + path("src.txt"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string first = corpus_bleu({kHyps[0], kHyps[2]}, {kRef1[0], kRef1[2]}).format();
  const std::string second = corpus_bleu({kHyps[1]}, {kRef1[1]}).format();
  EXPECT_TRUE(contains_text(r.out,
                            "BLEU by source length (buckets of 5 words):\n"
                            "  words 1-5: sentences = 2 " +
                                first +
                                "\n"
                                "  words 6-10: sentences = 1 " +
                                second + "\n"))
      << r.out;
}

TEST_F(CliEvalTest, MismatchedLineCountsExit1) {
  write("short.txt", "only one line\n");
  const auto r = nmt("eval --ref " + path("short.txt") + " --hyp " + path("hyp.txt"));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains_text(r.err, path("hyp.txt") + ") have 3 lines")) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("short.txt") + " has 1")) << r.err;
  EXPECT_EQ(r.out, "");

  const auto stdin_hyp = nmt("eval --ref " + path("short.txt") + " < " + path("hyp.txt"));
  EXPECT_EQ(stdin_hyp.code, 1);
  EXPECT_TRUE(contains_text(stdin_hyp.err, "<stdin>")) << stdin_hyp.err;

  const auto src =
      nmt("eval --ref " + path("ref1.txt") + " --hyp " + path("hyp.txt") + " --by-length 5 --src " + path("short.txt"));
  EXPECT_EQ(src.code, 1);
  EXPECT_TRUE(contains_text(src.err, "source " + path("short.txt") + " has 1")) << src.err;
}

TEST_F(CliEvalTest, MissingFileExit1) {
  const auto r = nmt("eval --ref " + path("nope.txt") + " --hyp " + path("hyp.txt"));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains_text(r.err, "nope.txt")) << r.err;
}

TEST_F(CliEvalTest, BadUsageExit2) {
  const std::string files = " --hyp " + path("hyp.txt");
  EXPECT_EQ(nmt("eval" + files).code, 2);  // --ref is required
  EXPECT_EQ(nmt("eval --ref " + path("ref1.txt") + files + " --bogus").code, 2);
  const auto tok = nmt("eval --ref " + path("ref1.txt") + files + " --tokenize zh");
  EXPECT_EQ(tok.code, 2);
  EXPECT_TRUE(contains_text(tok.err, "'zh'")) << tok.err;
  EXPECT_EQ(nmt("eval --ref " + path("ref1.txt") + files + " --metrics bleu,ter").code, 2);
  EXPECT_EQ(nmt("eval --ref " + path("ref1.txt") + files + " --by-length 5").code, 2);  // no --src
  EXPECT_EQ(nmt("eval --ref " + path("ref1.txt") + files + " --by-length 0 --src " + path("src.txt")).code, 2);
  EXPECT_EQ(nmt("eval --ref " + path("ref1.txt") + files + " --src " + path("src.txt")).code, 2);
  EXPECT_EQ(nmt("eval --ref " + path("ref1.txt") + files + " --by-length five --src " + path("src.txt")).code, 2);
}

TEST_F(CliEvalTest, ListedInHelp) {
  const auto r = nmt("--help");
  ASSERT_EQ(r.code, 0);
  EXPECT_TRUE(contains_text(r.out, "eval")) << r.out;
  const auto h = nmt("eval --help");
  ASSERT_EQ(h.code, 0);
  EXPECT_TRUE(contains_text(h.out, "--tokenize")) << h.out;
}

}  // namespace
}  // namespace nmt
