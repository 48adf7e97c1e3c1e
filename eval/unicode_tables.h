// Unicode property tables the eval library needs to match sacreBLEU (which runs on
// Python strings): general categories for the `intl` tokenizer, Python's whitespace and
// Python's str.lower(). The data is generated into unicode_tables.cc by
// gen_unicode_tables.py from Debian's unicode-data package; eval/unicode.h queries it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nmt::unicode_tables {

struct Range {  // inclusive code point range, sorted and disjoint within a table
  char32_t first, last;
};

// Every step-th code point in [first, last] lowercases to itself + delta.
struct LowerRun {
  char32_t first, last;
  int32_t delta;
  int32_t step;
};

// A lowercase mapping to several code points (U+0130 -> U+0069 U+0307).
struct SpecialLower {
  char32_t cp;
  int32_t size;
  char32_t lower[3];
};

extern const char* const kUnicodeVersion;
extern const Range kPunctuation[];  // general category P*
extern const size_t kPunctuationSize;
extern const Range kSymbol[];  // general category S*
extern const size_t kSymbolSize;
extern const Range kNumber[];  // general category N*
extern const size_t kNumberSize;
extern const Range kSpace[];  // Python's str.isspace(): category Zs or bidi class WS, B, S
extern const size_t kSpaceSize;
extern const Range kCased[];  // DerivedCoreProperties: Cased
extern const size_t kCasedSize;
extern const Range kCaseIgnorable[];  // DerivedCoreProperties: Case_Ignorable
extern const size_t kCaseIgnorableSize;
extern const LowerRun kLower[];  // UnicodeData simple lowercase mappings, sorted by first
extern const size_t kLowerSize;
extern const SpecialLower kSpecialLower[];  // SpecialCasing.txt, unconditional, sorted
extern const size_t kSpecialLowerSize;

}  // namespace nmt::unicode_tables
