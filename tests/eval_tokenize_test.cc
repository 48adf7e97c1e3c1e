// eval/tokenize.h: sacreBLEU's 13a and intl tokenizers. sacreBLEU's own test suite has no
// tokenizer cases, so each expectation is derived by hand from the regexes of
// sacrebleu/tokenizers/tokenizer_13a.py, tokenizer_re.py and tokenizer_intl.py (the steps
// are in the comments) and was checked against sacreBLEU 2.6.0 itself.
#include <gtest/gtest.h>

#include "eval/tokenize.h"

namespace nmt {
namespace {

std::string t13a(const std::string& s) { return tokenize(s, BleuTokenizer::k13a); }
std::string intl(const std::string& s) { return tokenize(s, BleuTokenizer::kIntl); }

TEST(EvalTokenize13a, PunctuationAndSymbols) {
  // ',' before a non-digit and '!' (in the symbol class) are split off.
  EXPECT_EQ(t13a("Hello, world!"), "Hello , world !");
  // '$' is a symbol; '.' and ',' between digits stay; "i.e." splits at every '.'.
  EXPECT_EQ(t13a("It costs $3.50, i.e. 1,000.5 units."), "It costs $ 3.50 , i . e . 1,000.5 units .");
  EXPECT_EQ(t13a("(hi) [x] {y}"), "( hi ) [ x ] { y }");
  // '-' and '\'' are not in the symbol class: "e-mail" and "don't" stay whole.
  EXPECT_EQ(t13a("e-mail: a/b@c.d"), "e-mail : a / b @ c . d");
  EXPECT_EQ(t13a("don't"), "don't");
  EXPECT_EQ(t13a("U.S.A."), "U . S . A .");
}

TEST(EvalTokenize13a, DigitsPeriodsAndDashes) {
  EXPECT_EQ(t13a("pi is 3.14"), "pi is 3.14");
  // The line is padded with spaces, so a final '.' after a digit is followed by a non-digit.
  EXPECT_EQ(t13a("in 1999."), "in 1999 .");
  // '-' after a digit is split off ([0-9])(-) -> "\1 \2 ".
  EXPECT_EQ(t13a("2-3 years, well-known"), "2 - 3 years , well-known");
  // " 5.- ": ([^0-9])([.,]) finds nothing ('5' is a digit); ([.,])([^0-9]) gives "5 . -";
  // then '5' is followed by a space, so ([0-9])(-) finds nothing.
  EXPECT_EQ(t13a("5.-"), "5 . -");
  // " a.,b ": "a." -> "a . " (matching resumes at ','), ", " is not [^0-9][.,]; then
  // ([.,])([^0-9]) splits ". " and ",b": "a . , b".
  EXPECT_EQ(t13a("a.,b"), "a . , b");
}

TEST(EvalTokenize13a, UnescapingAndSkipped) {
  EXPECT_EQ(t13a("&quot;Hi&quot; &amp; &lt;b&gt;"), "\" Hi \" & < b >");
  // Replacements run one after the other: "&amp;quot;" -> "&quot;" stays (quot ran first).
  EXPECT_EQ(t13a("&amp;quot;"), "& quot ;");
  EXPECT_EQ(t13a("a<skipped>b"), "ab");
  EXPECT_EQ(t13a("  multiple   spaces\there  "), "multiple spaces here");
  EXPECT_EQ(t13a(""), "");
}

TEST(EvalTokenizeIntl, UnicodePunctuationAndSymbols) {
  EXPECT_EQ(intl("Hello, world!"), "Hello , world !");
  EXPECT_EQ(intl("«Bonjour»"), "« Bonjour »");
  EXPECT_EQ(intl("日本語。"), "日本語 。");
  EXPECT_EQ(intl("€5 and 3.14"), "€ 5 and 3.14");  // € is a symbol (Sc)
  EXPECT_EQ(intl("x^2+y"), "x ^ 2 + y");
  EXPECT_EQ(intl("a.b"), "a . b");
  EXPECT_EQ(intl("don't"), "don ' t");  // unlike 13a, every punctuation mark splits
}

TEST(EvalTokenizeIntl, NumbersKeepTheirPunctuation) {
  EXPECT_EQ(intl("1,000.5"), "1,000.5");
  // mteval-v14 quirk kept by sacreBLEU: no padding, so a final '.' after a number stays.
  EXPECT_EQ(intl("in 1999."), "in 1999.");
  // "(1)": '(' is followed by a number and ')' preceded by one: neither rule applies.
  EXPECT_EQ(intl("(1)"), "(1)");
  // No HTML unescaping in intl.
  EXPECT_EQ(intl("&amp;"), "& amp ;");
}

TEST(EvalTokenize, NoneAndNames) {
  EXPECT_EQ(tokenize("Hello, world!", BleuTokenizer::kNone), "Hello, world!");
  EXPECT_EQ(tokenizer_from_name("13a"), BleuTokenizer::k13a);
  EXPECT_EQ(tokenizer_from_name("intl"), BleuTokenizer::kIntl);
  EXPECT_EQ(tokenizer_from_name("none"), BleuTokenizer::kNone);
  EXPECT_FALSE(tokenizer_from_name("zh").has_value());
  EXPECT_STREQ(tokenizer_name(BleuTokenizer::kIntl), "intl");
}

}  // namespace
}  // namespace nmt
