// eval/unicode.h: UTF-8 handling and the Python string semantics the metrics rely on.
// Expected values are Python 3's (str.lower(), str.split(), str.isspace()).
#include <gtest/gtest.h>

#include "eval/unicode.h"

namespace nmt::unicode {
namespace {

std::string lower_utf8(const std::string& s) { return encode_utf8(lower(decode_utf8(s))); }

TEST(EvalUnicode, Utf8RoundTrip) {
  const std::string s = "a\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80";  // a ä € 😀
  const std::u32string u = decode_utf8(s);
  ASSERT_EQ(u, (std::u32string{U'a', 0xE4, 0x20AC, 0x1F600}));
  EXPECT_EQ(encode_utf8(u), s);
}

TEST(EvalUnicode, InvalidBytesBecomeReplacementCharacters) {
  // Lone continuation byte, truncated 2-byte sequence, overlong '/', a UTF-16 surrogate.
  EXPECT_EQ(decode_utf8("a\x80"
                        "b"),
            (std::u32string{U'a', 0xFFFD, U'b'}));
  EXPECT_EQ(decode_utf8("x\xC3"), (std::u32string{U'x', 0xFFFD}));
  EXPECT_EQ(decode_utf8("\xC0\xAF"), (std::u32string{0xFFFD, 0xFFFD}));
  EXPECT_EQ(decode_utf8("\xED\xA0\x80"), (std::u32string{0xFFFD, 0xFFFD, 0xFFFD}));
}

TEST(EvalUnicode, WhitespaceIsPythons) {
  for (char32_t c : {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029,
                     0x202F, 0x205F, 0x3000})
    EXPECT_TRUE(is_space(c)) << std::hex << static_cast<uint32_t>(c);
  for (char32_t c : {0x08, 0x21, 0x200B, 0x180E, 0xFEFF, 0x41}) EXPECT_FALSE(is_space(c)) << std::hex << c;
  const std::u32string s = U"  a\u3000b\t\tc\u00A0 ";
  const auto words = split(s);
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0], U"a");
  EXPECT_EQ(words[2], U"c");
  EXPECT_TRUE(split(U" \t ").empty());
  EXPECT_EQ(rstrip(U" a b \u2028\r"), U" a b");
}

TEST(EvalUnicode, GeneralCategories) {
  EXPECT_TRUE(is_punctuation(U'.'));
  EXPECT_TRUE(is_punctuation(0xAB));    // «
  EXPECT_TRUE(is_punctuation(0x3002));  // 。
  EXPECT_FALSE(is_punctuation(U'$'));   // Sc, a symbol
  EXPECT_TRUE(is_symbol(U'$'));
  EXPECT_TRUE(is_symbol(0x20AC));   // €
  EXPECT_TRUE(is_symbol(0x1F600));  // 😀
  EXPECT_FALSE(is_symbol(U'a'));
  EXPECT_TRUE(is_number(U'7'));
  EXPECT_TRUE(is_number(0x663));   // Arabic-Indic three (Nd)
  EXPECT_TRUE(is_number(0x216B));  // Roman numeral twelve (Nl)
  EXPECT_TRUE(is_number(0xBD));    // ½ (No)
  EXPECT_FALSE(is_number(U'x'));
  EXPECT_STREQ(data_version(), "15.0.0");
}

TEST(EvalUnicode, LowerMatchesPython) {
  EXPECT_EQ(lower_utf8("ABC def 123"), "abc def 123");
  EXPECT_EQ(lower_utf8("ÄÖÜ Straße"), "äöü straße");
  EXPECT_EQ(lower_utf8("ẞ"), "ß");
  EXPECT_EQ(lower_utf8("ǄǅǆÅ"), "ǆǆǆå");               // titlecase digraph; U+00C5
  EXPECT_EQ(lower_utf8("\u212A\u2126\u216B"), "kωⅻ");  // Kelvin, Ohm, Roman numeral
  EXPECT_EQ(lower_utf8("İ"), "i\u0307");               // SpecialCasing: two code points
}

TEST(EvalUnicode, LowerFinalSigma) {
  // Python: 'ΟΔΟΣ'.lower() == 'οδος', 'ΣΑΣ ΣΑΣ'.lower() == 'σας σας', 'Σ'.lower() == 'σ'.
  EXPECT_EQ(lower_utf8("ΟΔΟΣ"), "οδος");
  EXPECT_EQ(lower_utf8("ΣΑΣ ΣΑΣ"), "σας σας");
  EXPECT_EQ(lower_utf8("Σ"), "σ");
  EXPECT_EQ(lower_utf8("ΑΣ."), "ας.");          // '.' is case-ignorable, then the end
  EXPECT_EQ(lower_utf8("ΑΣ'Α"), "ασ'α");        // a cased letter follows the ignorable '
  EXPECT_EQ(lower_utf8("\u0345Σ"), "\u0345σ");  // nothing cased before (U+0345 is ignorable)
}

}  // namespace
}  // namespace nmt::unicode
