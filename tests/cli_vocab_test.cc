// Runs the built `nmt vocab` binary (NMT_BINARY) on corpora generated here.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;

class CliVocabTest : public testing::FileTest {
 protected:
  void SetUp() override {
    open_dir("nmt_cli_vocab");
    // Two small corpora of made-up words in two scripts, one plain and one gzip.
    std::mt19937 rng(3);
    const std::vector<std::string> syl = {"ka", "ro", "ten", "mi", "ä", "ü", "sch", "ber", "при", "ло", "ст", "ё"};
    std::string a, b;
    for (int i = 0; i < 1200; ++i) {
      std::string line;
      for (int w = 0, n = 2 + static_cast<int>(rng() % 8); w < n; ++w) {
        line += w ? " " : "";
        for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) line += syl[rng() % syl.size()];
      }
      (i % 2 ? a : b) += line + "\n";
    }
    write("a.txt", a);
    write_gz("b.gz", b);
  }
  void TearDown() override { close_dir(); }
};

TEST_F(CliVocabTest, TrainsOnPlainAndGzip) {
  const auto r = nmt("vocab --train-sets " + path("a.txt") + " " + path("b.gz") + " -o " + path("v.spm") +
                     " --vocab-size 120 --model-type bpe");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(fs::exists(path("v.spm")));
  const Vocab v = Vocab::load(path("v.spm"));
  EXPECT_EQ(v.size(), 120);
  EXPECT_EQ(v.decode(v.encode("kamiä прилоё")), "kamiä прилоё");
  // The log says what was read, how much, and how long it took.
  EXPECT_NE(r.err.find("read " + path("a.txt") + ": 600 lines"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("read " + path("b.gz") + ": 600 lines"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("on 1200 sentences"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" s (reading"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliVocabTest, ReadsStdin) {
  const auto r = nmt("vocab -t - -o " + path("v.spm") + " --vocab-size 60 < " + path("b.gz"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Vocab::load(path("v.spm")).size(), 60);
  EXPECT_NE(r.err.find("read <stdin>: 600 lines"), std::string::npos) << r.err;
}

TEST_F(CliVocabTest, BadOptionsExitTwo) {
  const std::string in = " --train-sets " + path("a.txt");
  const std::string out = " -o " + path("v.spm");
  for (const std::string& args :
       {in + out + " --model-type word", in + out + " --vocab-size 7", in + out + " --vocab-size lots",
        in + out + " --character-coverage 0.5", in + out + " --max-sentences 0", in + out + " --no-such-option", in,
        out, out + " --train-sets"}) {
    const auto r = nmt("vocab" + args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("vocab"), std::string::npos) << r.err;
  }
  EXPECT_NE(nmt("vocab" + in + out + " --model-type word").err.find("model-type must be unigram or bpe, got 'word'"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(path("v.spm")));
}

TEST_F(CliVocabTest, MissingOrBadInputExitsOneNamingTheFile) {
  const std::string missing = path("missing.gz");
  auto r = nmt("vocab --train-sets " + path("a.txt") + " " + missing + " -o " + path("v.spm"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;

  const std::string bad = write("bad.txt", "gut\nschlecht \xC3\n");
  r = nmt("vocab --train-sets " + bad + " -o " + path("v.spm"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(bad + ":2: invalid UTF-8"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("v.spm")));
}

TEST_F(CliVocabTest, DumpConfigPrintsMergedOptions) {
  const auto r = nmt("vocab --train-sets " + path("a.txt") + " -o " + path("v.spm") +
                     " --vocab-size 123 --model-type bpe --dump-config");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("train-sets = " + path("a.txt") + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output = " + path("v.spm") + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vocab-size = 123\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model-type = bpe\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seed = 1\n"), std::string::npos) << r.out;  // defaults too
  EXPECT_NE(r.out.find("max-sentences = 2000000\n"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("v.spm")));  // nothing trained
}

TEST_F(CliVocabTest, ConfigFileOverriddenByCommandLine) {
  const std::string cfg =
      write("vocab.cfg", "train-sets = " + path("a.txt") + "\ntrain-sets = " + path("b.gz") +
                             "\noutput = " + path("from_config.spm") + "\nvocab-size = 90\nmodel-type = bpe\n");
  auto r = nmt("vocab -c " + cfg + " --vocab-size 70 --dump-config");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("vocab-size = 70\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model-type = bpe\n"), std::string::npos) << r.out;

  r = nmt("vocab --config " + cfg + " --vocab-size 70");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Vocab::load(path("from_config.spm")).size(), 70);
  EXPECT_NE(r.err.find("training a bpe vocabulary of 70 pieces on 1200 sentences"), std::string::npos) << r.err;

  write("typo.cfg", "vocab-sise = 90\n");
  EXPECT_EQ(nmt("vocab -c " + path("typo.cfg") + " -t " + path("a.txt") + " -o " + path("x.spm")).code, 2);
  EXPECT_EQ(nmt("vocab -c " + path("no_such.cfg") + " -t " + path("a.txt") + " -o " + path("x.spm")).code, 1);
}

TEST_F(CliVocabTest, Help) {
  const auto r = nmt("vocab --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--vocab-size"), std::string::npos) << r.out;
  EXPECT_NE(nmt("--help").out.find("vocab"), std::string::npos);
}

}  // namespace
}  // namespace nmt
