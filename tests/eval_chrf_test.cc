// eval/chrf.h: corpus chrF against hand-derived values and against the expected figures of
// sacreBLEU's own tests (test/test_chrf.py, sacreBLEU 2.x; there EPSILON = 1e-4).
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/chrf.h"

namespace nmt {
namespace {

constexpr double kEps = 1e-4;

ChrfOptions beta3(bool eps_smoothing, bool whitespace = false) {
  ChrfOptions o;
  o.beta = 3;
  o.eps_smoothing = eps_smoothing;
  o.whitespace = whitespace;
  return o;
}

// ---------------------------------------------------------------- hand-derived cases
// Default chrF: orders 1..6, beta 2. Precision and recall are averaged over the orders where
// both the hypothesis and the reference have n-grams, then F2 = 5 P R / (4 P + R).

TEST(EvalChrf, PerfectMatchIs100AndEmptyIsZero) {
  EXPECT_DOUBLE_EQ(corpus_chrf({"Niemand hat die Absicht"}, {"Niemand hat die Absicht"}).score, 100.0);
  EXPECT_EQ(corpus_chrf({""}, {"reference"}).score, 0.0);
  EXPECT_EQ(corpus_chrf({"abc"}, {""}).score, 0.0);
}

TEST(EvalChrf, HandDerivedSingleSegment) {
  // "aa" vs "ab": order 1 hyp {a:2}, ref {a:1, b:1}: 1 match, P = R = 1/2; order 2 "aa" vs
  // "ab": P = R = 0; orders 3..6 empty. P = R = (1/2 + 0) / 2 = 1/4 -> F2 = 1/4 -> 25.
  EXPECT_NEAR(corpus_chrf({"aa"}, {"ab"}).score, 25.0, 1e-9);
  // "abc" vs "abd": P = R = 2/3 (order 1), 1/2 (order 2), 0 (order 3): mean 7/18 -> 38.8889.
  EXPECT_NEAR(corpus_chrf({"abc"}, {"abd"}).score, 100.0 * 7 / 18, 1e-9);
  // Whitespace is removed before extracting n-grams: "a b c" == "abc".
  EXPECT_DOUBLE_EQ(corpus_chrf({"a b c"}, {"abc"}).score, 100.0);
  // "abcd" vs "ab": order 1 P = 2/4, R = 1; order 2 P = 1/3, R = 1; orders 3.. have no
  // reference n-grams. P = 5/12, R = 1 -> F2 = 5 (5/12) / (4 (5/12) + 1) = 25/32 -> 78.125.
  EXPECT_NEAR(corpus_chrf({"abcd"}, {"ab"}).score, 78.125, 1e-9);
}

TEST(EvalChrf, CorpusStatisticsAreSummed) {
  // hyps "ab", "x"; refs "ab", "y". Order 1: hyp 2+1, ref 2+1, match 2+0 -> P = R = 2/3;
  // order 2: only line 1 has bigrams, 1/1 -> P = R = 1. Mean 5/6 -> 83.3333 (the mean of
  // the sentence scores would be (100 + 0) / 2 = 50).
  EXPECT_NEAR(corpus_chrf({"ab", "x"}, {"ab", "y"}).score, 100.0 * 5 / 6, 1e-9);
}

TEST(EvalChrf, HypothesisNgramsOfOrdersTheReferenceLacksAreNotCounted) {
  // sacreBLEU counts a segment's hypothesis n-grams of order n only if its reference has
  // n-grams of order n. hyps "abcd", "xyz"; refs "ab", "xyz":
  //   order 1: hyp 4+3, ref 2+3, match 2+3 -> P = 5/7, R = 1
  //   order 2: hyp 3+2, ref 1+2, match 1+2 -> P = 3/5, R = 1
  //   order 3: line 1 counts 0 (not 2) since "ab" has no trigram; line 2 1/1 -> P = R = 1
  //   order 4: no reference 4-grams -> not an effective order
  //   P = (5/7 + 3/5 + 1) / 3 = 27/35, R = 1 -> F2 = 5 P / (4 P + 1) = 135/143 -> 94.4056
  EXPECT_NEAR(corpus_chrf({"abcd", "xyz"}, {"ab", "xyz"}).score, 100.0 * 135 / 143, 1e-9);
}

TEST(EvalChrf, LowercaseOption) {
  // Mixed case: no character matches. Lowercased: identical.
  EXPECT_EQ(corpus_chrf({"ABC"}, {"abc"}).score, 0.0);
  ChrfOptions lc;
  lc.lowercase = true;
  EXPECT_DOUBLE_EQ(corpus_chrf({"ABC"}, {"abc"}, lc).score, 100.0);
}

TEST(EvalChrf, MismatchedCountsThrowWithBothCounts) {
  try {
    corpus_chrf({"a"}, {"a", "b"});
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("1 hypotheses but 2 references"), std::string::npos) << e.what();
  }
  ChrfOptions bad;
  bad.char_order = 0;
  EXPECT_THROW(corpus_chrf({"a"}, {"a"}, bad), InputError);
}

TEST(EvalChrf, NameAndSignature) {
  const auto r = corpus_chrf({"abc"}, {"abd"});
  EXPECT_EQ(r.name(), "chrF2");
  EXPECT_EQ(r.format(), "chrF2 = 38.89");
  EXPECT_EQ(chrf_signature(ChrfOptions{}), "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:nmt-eval");
  ChrfOptions lc;
  lc.lowercase = true;
  EXPECT_EQ(chrf_signature(lc, 2), "nrefs:2|case:lc|eff:yes|nc:6|nw:0|space:no|version:nmt-eval");
}

TEST(EvalChrf, MultipleReferencesPickTheBestSegmentF) {
  // Per segment the reference giving the best F wins: "abc" against {"xyz", "abc"} = 100.
  EXPECT_DOUBLE_EQ(corpus_chrf_multi({"abc"}, {{"xyz"}, {"abc"}}).score, 100.0);
}

// -------------------------------------------------- ported from sacreBLEU's test_chrf.py

TEST(EvalChrfSacrebleu, EpsSmoothingBeta3) {
  const struct {
    const char* hyp;
    const char* ref;
    double expected;
  } cases[] = {
      {"abcdefg", "hijklmnop", 0.0},
      {"a", "b", 0.0},
      {"", "b", 0.0},
      {"", "ref", 0.0},
      {"", "reference", 0.0},
      {"aa", "ab", 8.3333},
      {"a", "a", 16.6667},
      {"a b c", "a b c", 50.0},
      {"a b c", "abc", 50.0},
      {" risk assessment must be made of those who are qualified and expertise in the sector - these are the "
       "scientists .",
       "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the "
       "scientists .",
       63.361730},
      {" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. ",
       "Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.", 64.1302698},
      {"Niemand hat die Absicht, eine Mauer zu errichten", "Niemand hat die Absicht, eine Mauer zu errichten", 100.0},
  };
  for (const auto& c : cases) EXPECT_NEAR(corpus_chrf({c.hyp}, {c.ref}, beta3(true)).score, c.expected, kEps) << c.hyp;
  EXPECT_NEAR(corpus_chrf({"a", "b"}, {"a", "c"}, beta3(true)).score, 8.3333, kEps);
}

TEST(EvalChrfSacrebleu, EffectiveOrderBeta3) {
  const struct {
    std::vector<std::string> hyps, refs;
    double expected;
  } cases[] = {
      {{"a"}, {"a"}, 100.0}, {{""}, {"reference"}, 0.0},     {{"a b c"}, {"a b c"}, 100.0}, {{"a b c"}, {"abc"}, 100.0},
      {{""}, {"c"}, 0.0},    {{"a", "b"}, {"a", "c"}, 50.0}, {{"aa"}, {"ab"}, 25.0},
  };
  for (const auto& c : cases) EXPECT_NEAR(corpus_chrf(c.hyps, c.refs, beta3(false)).score, c.expected, kEps);
}

TEST(EvalChrfSacrebleu, KeepWhitespaceBeta3) {
  EXPECT_NEAR(corpus_chrf({"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."},
                          {"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."},
                          beta3(false, true))
                  .score,
              67.3481606, kEps);
  EXPECT_NEAR(corpus_chrf({"risk assessment must be made of those who are qualified and expertise in the sector - "
                           "these are the scientists ."},
                          {"risk assessment has to be undertaken by those who are qualified and expert in that "
                           "area - that is the scientists ."},
                          beta3(false, true))
                  .score,
              65.2414427, kEps);
}

TEST(EvalChrfSacrebleu, SentenceLevelEpsSmoothingBeta2) {
  ChrfOptions o;
  o.eps_smoothing = true;
  EXPECT_NEAR(corpus_chrf({"Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře."},
                          {"Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře."}, o)
                  .score,
              39.14078509, kEps);
  EXPECT_NEAR(corpus_chrf({"Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři."},
                          {"A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři."}, o)
                  .score,
              31.22557079, kEps);
  EXPECT_NEAR(
      corpus_chrf({"Lapali po dechu, jejich životy skončily dřív, než skutečně začaly."},
                  {"Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli."}, o)
          .score,
      57.15704367, kEps);
}

}  // namespace
}  // namespace nmt
