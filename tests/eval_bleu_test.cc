// eval/bleu.h: corpus BLEU against hand-derived values and against the expected figures of
// sacreBLEU's own tests (test/test_bleu.py, test/test_sentence_bleu.py, sacreBLEU 2.x).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "eval/bleu.h"

namespace nmt {
namespace {

// sacreBLEU's tests compare with EPSILON = 1e-8 on BLEU / 100 (test_bleu.py) or 1e-3 on
// the 0..100 score (test_sentence_bleu.py); we use the same tolerances on 0..100.
constexpr double kTight = 1e-6;
constexpr double kLoose = 1e-3;

BleuOptions with_tok(BleuTokenizer t) {
  BleuOptions o;
  o.tokenize = t;
  return o;
}

// ---------------------------------------------------------------- hand-derived cases

TEST(EvalBleu, PerfectMatchIs100) {
  const auto r = corpus_bleu({"The cat sat on the mat.", "A second line, with a comma!"},
                             {"The cat sat on the mat.", "A second line, with a comma!"});
  EXPECT_DOUBLE_EQ(r.score, 100.0);
  EXPECT_DOUBLE_EQ(r.bp, 1.0);
  EXPECT_EQ(r.hyp_len, 15);  // 7 + 8 tokens after 13a ("mat ." and "comma !" split)
  EXPECT_EQ(r.ref_len, 15);
}

TEST(EvalBleu, EmptyHypothesisIsZero) {
  const auto r = corpus_bleu({""}, {"the cat sat on the mat"});
  EXPECT_EQ(r.score, 0.0);
  EXPECT_EQ(r.hyp_len, 0);
  EXPECT_EQ(r.ref_len, 6);
  EXPECT_EQ(r.bp, 0.0);  // sys_len == 0 -> BP 0
  const auto empty = corpus_bleu(std::vector<std::string>{}, std::vector<std::string>{});
  EXPECT_EQ(empty.score, 0.0);
  EXPECT_EQ(empty.ratio, 0.0);
}

TEST(EvalBleu, ClippingAndExpSmoothing) {
  // hyp "the the the the" (4 tokens), ref "the cat" (2 tokens):
  //   1-grams: "the" x4, clipped to the reference's 1 -> 1/4 = 25%
  //   2-grams 0/3, 3-grams 0/2, 4-grams 0/1: exp smoothing doubles a divisor per zero order:
  //   p2 = 100/(2*3) = 16.667, p3 = 100/(4*2) = 12.5, p4 = 100/(8*1) = 12.5
  //   BP = 1 (4 >= 2); BLEU = (25 * 16.667 * 12.5 * 12.5)^(1/4) = 65104.17^(1/4) = 15.9736
  const auto r = corpus_bleu({"the the the the"}, {"the cat"});
  EXPECT_NEAR(r.score, 15.973577606156812, kTight);
  EXPECT_EQ(r.counts, (std::vector<double>{1, 0, 0, 0}));
  EXPECT_EQ(r.totals, (std::vector<double>{4, 3, 2, 1}));
  EXPECT_NEAR(r.precisions[1], 100.0 / 6, 1e-12);
  EXPECT_DOUBLE_EQ(r.precisions[3], 12.5);
  EXPECT_DOUBLE_EQ(r.ratio, 2.0);
  EXPECT_EQ(r.format(), "BLEU = 15.97 25.0/16.7/12.5/12.5 (BP = 1.000 ratio = 2.000 hyp_len = 4 ref_len = 2)");
}

TEST(EvalBleu, TokenizationCounts) {
  // 13a: "Hello , world !" (4 tokens) vs "Hello world" (2): 1-grams 2/4 = 50%, then
  // 0/3, 0/2, 0/1 -> 16.667, 12.5, 12.5; BLEU = (50 * 16.667 * 12.5 * 12.5)^(1/4) = 18.9959
  EXPECT_NEAR(corpus_bleu({"Hello, world!"}, {"Hello world"}).score, 18.995892141289815, kTight);
}

TEST(EvalBleu, BrevityPenaltyAndMissingOrder) {
  // hyp "the cat sat" (3) vs ref "the cat sat on the mat" (6): p1..p3 = 100%, but there
  // is no 4-gram at all: sacreBLEU stops at the empty order, leaves p4 = 0 and
  // log(0) is floored to -9999999999, so BLEU = 0.
  const auto r = corpus_bleu({"the cat sat"}, {"the cat sat on the mat"});
  EXPECT_EQ(r.score, 0.0);
  EXPECT_NEAR(r.bp, std::exp(1.0 - 6.0 / 3.0), 1e-15);  // exp(1 - r/c) = e^-1
  // With effective order only orders 1..3 count: BLEU = BP * 100 = 36.7879.
  BleuOptions eff;
  eff.effective_order = true;
  EXPECT_NEAR(corpus_bleu({"the cat sat"}, {"the cat sat on the mat"}, eff).score, 100 * std::exp(-1.0), kTight);
}

TEST(EvalBleu, LowercaseOption) {
  // Mixed case: no token matches -> 0. Lowercased: identical 4-token lines -> 100.
  EXPECT_EQ(corpus_bleu({"THE CAT SAT DOWN"}, {"the cat sat down"}).score, 0.0);
  BleuOptions lc;
  lc.lowercase = true;
  EXPECT_DOUBLE_EQ(corpus_bleu({"THE CAT SAT DOWN"}, {"the cat sat down"}, lc).score, 100.0);
  // Lowercasing happens before the 13a unescaping, as in sacreBLEU: "&QUOT;" -> "&quot;" -> '"'.
  EXPECT_EQ(bleu_preprocess("&QUOT;Hi&QUOT;", lc), "\" hi \"");
  EXPECT_EQ(bleu_preprocess("&QUOT;Hi&QUOT;", BleuOptions{}), "& QUOT ; Hi & QUOT ;");
}

TEST(EvalBleu, CorpusStatisticsAreSummed) {
  // Corpus BLEU is not the mean of sentence BLEU: the counts of both lines add up.
  // Line 1 perfect (4 tokens), line 2 "a b c d" vs "a b c e": 1-grams 3/4, 2-grams 2/3,
  // 3-grams 1/2, 4-grams 0/1. Totals: 7/8, 5/6, 3/4, 1/2 -> BLEU = (7/8*5/6*3/4*1/2)^(1/4)*100
  const auto r = corpus_bleu({"w x y z", "a b c d"}, {"w x y z", "a b c e"});
  EXPECT_NEAR(r.score, 100 * std::pow(7.0 / 8 * 5.0 / 6 * 3.0 / 4 * 1.0 / 2, 0.25), kTight);
  EXPECT_EQ(r.counts, (std::vector<double>{7, 5, 3, 1}));
}

TEST(EvalBleu, MismatchedCountsThrowWithBothCounts) {
  try {
    corpus_bleu({"a", "b", "c"}, {"a", "b"});
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("3 hypotheses but 2 references"), std::string::npos) << e.what();
  }
  EXPECT_THROW(corpus_bleu_multi({"a"}, {{"a"}, {}}), InputError);
  EXPECT_THROW(bleu_segment_stats("a", {}, BleuOptions{}), InputError);
  BleuOptions bad;
  bad.max_ngram_order = 0;
  EXPECT_THROW(corpus_bleu({"a"}, {"a"}, bad), InputError);
}

TEST(EvalBleu, MultipleReferences) {
  // Closest reference length: hyp 3 tokens vs refs of 4 and 2 -> both 1 away, the shorter wins.
  EXPECT_EQ(corpus_bleu_multi({"a b c"}, {{"a b c d"}, {"a b"}}).ref_len, 2);
  EXPECT_EQ(corpus_bleu_multi({"a b c"}, {{"a b c d e"}, {"x y"}}).ref_len, 2);  // 1 away beats 2 away
  // N-gram counts are clipped by the maximum over the references: "the" x2 matches twice.
  const auto r = corpus_bleu_multi({"the the"}, {{"the cat"}, {"the the"}});
  EXPECT_EQ(r.counts[0], 2);
  EXPECT_EQ(r.counts[1], 1);
}

TEST(EvalBleu, Signature) {
  EXPECT_EQ(bleu_signature(BleuOptions{}), "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:nmt-eval");
  BleuOptions o;
  o.lowercase = true;
  o.tokenize = BleuTokenizer::kIntl;
  o.smooth = BleuSmooth::kFloor;
  EXPECT_EQ(bleu_signature(o, 2), "nrefs:2|case:lc|eff:no|tok:intl|smooth:floor[0.10]|version:nmt-eval");
}

// ------------------------------------------------- ported from sacreBLEU's test_bleu.py

const std::vector<std::string> kHyps = {"The dog bit the man.", "It wasn't surprising.",
                                        "The man had just bitten him."};
const std::vector<std::vector<std::string>> kRefs = {
    {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
    {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
};

TEST(EvalBleuSacrebleu, CorpusBleuCases) {
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs).score, 48.530827, kTight);
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs, with_tok(BleuTokenizer::k13a)).score, 48.530827, kTight);
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs, with_tok(BleuTokenizer::kNone)).score, 49.1919566, kTight);
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs, with_tok(BleuTokenizer::kIntl)).score, 43.91623493, kTight);
  BleuOptions none;
  none.smooth = BleuSmooth::kNone;
  EXPECT_NEAR(corpus_bleu_multi(kHyps, kRefs, none).score, 48.530827, kTight);
  // Empty hypotheses are scored, not dropped.
  EXPECT_EQ(corpus_bleu_multi({"", "", ""}, kRefs).score, 0.0);
}

TEST(EvalBleuSacrebleu, MaxNgramOrder) {
  const std::pair<int, const char*> cases[] = {{1, "77.65"}, {2, "60.50"}, {3, "53.93"},
                                               {4, "48.53"}, {5, "46.14"}, {6, "43.28"}};
  for (const auto& [order, expected] : cases) {
    BleuOptions o;
    o.max_ngram_order = order;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", corpus_bleu_multi(kHyps, kRefs, o).score);
    EXPECT_EQ(std::string(buf), expected) << "order " << order;
  }
}

// sacrebleu.raw_corpus_bleu(hyps, refs, v): tokenize 'none', floor smoothing with value v,
// effective order.
BleuOptions raw(double floor) {
  BleuOptions o;
  o.tokenize = BleuTokenizer::kNone;
  o.smooth = BleuSmooth::kFloor;
  o.smooth_value = floor;
  o.effective_order = true;
  return o;
}

TEST(EvalBleuSacrebleu, RawBleuAndEffectiveOrder) {
  EXPECT_NEAR(corpus_bleu({"this is a test", "another test"}, {"ref1", "ref2"}, raw(.01)).score, 0.0, kTight);
  EXPECT_NEAR(corpus_bleu({"this is a test"}, {"this is a test"}, raw(.01)).score, 100.0, kTight);
  EXPECT_NEAR(corpus_bleu({"this is a fest"}, {"this is a test"}, raw(.01)).score, 22.3606797749979, kTight);
  EXPECT_NEAR(corpus_bleu({"test"}, {"a test"}, raw(.01)).score, 36.78794411714425, kTight);
  EXPECT_NEAR(corpus_bleu({"a test"}, {"a test"}, raw(.01)).score, 100.0, kTight);
  EXPECT_NEAR(corpus_bleu({"a little test"}, {"a test"}, raw(.01)).score, 3.218297948685433, kTight);
}

TEST(EvalBleuSacrebleu, StatisticsAndOffset) {
  const std::string hyp = "am I am a character sequence", ref = "I am a symbol string sequence a a";
  const auto r = corpus_bleu({hyp}, {ref}, raw(.01));
  EXPECT_EQ(r.counts, (std::vector<double>{4, 2, 1, 0}));
  EXPECT_EQ(r.totals, (std::vector<double>{6, 5, 4, 3}));
  EXPECT_NEAR(corpus_bleu({hyp}, {ref}, raw(0.0)).score, 0.0, kTight);
  BleuOptions default_floor = raw(0.1);
  default_floor.smooth_value.reset();  // falls back to floor's default 0.1
  EXPECT_NEAR(corpus_bleu({hyp}, {ref}, default_floor).score, 15.55722182, kTight);
}

TEST(EvalBleuSacrebleu, ScoringFromStatistics) {
  BleuStats s;
  s.correct = {9, 7, 5, 3};
  s.total = {10, 8, 6, 4};
  s.hyp_len = s.ref_len = 11;
  BleuOptions o;
  o.smooth = BleuSmooth::kNone;
  EXPECT_NEAR(compute_bleu(s, o).score, 83.75922397, kTight);
}

TEST(EvalBleuSacrebleu, DegenerateStatistics) {
  struct Case {
    std::vector<int64_t> correct, total;
    int64_t hyp_len, ref_len;
    double floor;
  };
  const Case cases[] = {{{0, 0, 0, 0}, {4, 4, 2, 1}, 0, 1, 0.0}, {{0, 0, 0, 0}, {10, 11, 12, 0}, 14, 10, 0.0},
                        {{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.0}, {{6, 5, 4, 0}, {6, 5, 4, 3}, 6, 6, 0.0},
                        {{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.1}, {{0, 0, 0, 0}, {0, 0, 0, 0}, 1, 5, 0.01}};
  for (const auto& c : cases) {
    BleuStats s;
    s.correct = c.correct;
    s.total = c.total;
    s.hyp_len = c.hyp_len;
    s.ref_len = c.ref_len;
    BleuOptions o;
    o.smooth = BleuSmooth::kFloor;
    o.smooth_value = c.floor;
    EXPECT_EQ(compute_bleu(s, o).score, 0.0);
  }
}

// --------------------------------------------- ported from sacreBLEU's test_sentence_bleu.py

TEST(EvalBleuSacrebleu, SentenceBleuSmoothingAndTokenizers) {
  // Example from sacreBLEU issue #98; sentence BLEU uses effective order.
  const std::string ref = "producţia de zahăr brut se exprimă în zahăr alb;";
  const std::string sys = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;";
  struct Case {
    BleuSmooth smooth;
    std::optional<double> value;
    BleuTokenizer tok;
    double expected;
  };
  const Case cases[] = {
      {BleuSmooth::kExp, {}, BleuTokenizer::k13a, 8.493},     {BleuSmooth::kNone, {}, BleuTokenizer::k13a, 0.0},
      {BleuSmooth::kFloor, {}, BleuTokenizer::k13a, 4.51688}, {BleuSmooth::kFloor, 0.1, BleuTokenizer::k13a, 4.51688},
      {BleuSmooth::kFloor, 0.5, BleuTokenizer::k13a, 10.10},  {BleuSmooth::kAddK, {}, BleuTokenizer::k13a, 14.882},
      {BleuSmooth::kAddK, 1, BleuTokenizer::k13a, 14.882},    {BleuSmooth::kAddK, 2, BleuTokenizer::k13a, 21.389},
      {BleuSmooth::kExp, {}, BleuTokenizer::kNone, 7.347},    {BleuSmooth::kExp, {}, BleuTokenizer::kIntl, 8.493},
  };
  for (const auto& c : cases) {
    BleuOptions o;
    o.smooth = c.smooth;
    o.smooth_value = c.value;
    o.tokenize = c.tok;
    o.effective_order = true;
    EXPECT_NEAR(corpus_bleu({sys}, {ref}, o).score, c.expected, kLoose)
        << smooth_name(c.smooth) << " " << (c.value ? *c.value : -1) << " " << tokenizer_name(c.tok);
  }
  // Example from #141: no match at all is 0 whatever the smoothing.
  for (auto sm : {BleuSmooth::kExp, BleuSmooth::kNone, BleuSmooth::kFloor, BleuSmooth::kAddK}) {
    BleuOptions o;
    o.smooth = sm;
    o.effective_order = true;
    EXPECT_EQ(corpus_bleu({"this is a cat"}, {"okay thanks"}, o).score, 0.0) << smooth_name(sm);
  }
}

}  // namespace
}  // namespace nmt
