// The few Unicode operations the metrics need, with Python's semantics (sacreBLEU works
// on Python strings): UTF-8 <-> code points, str.isspace / split / rstrip, str.lower,
// and the general categories N, P, S used by the `intl` tokenizer. Tables: unicode_tables.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nmt::unicode {

// Decodes UTF-8. Invalid or truncated sequences, overlong forms and surrogates become
// U+FFFD, one per offending byte, so metrics never fail on a bad byte.
std::u32string decode_utf8(std::string_view s);
std::string encode_utf8(std::u32string_view s);
void append_utf8(std::string& out, char32_t c);

bool is_space(char32_t c);        // Python str.isspace(): Zs or bidi class WS, B, S
bool is_punctuation(char32_t c);  // general category P* (regex \p{P})
bool is_symbol(char32_t c);       // general category S* (regex \p{S})
bool is_number(char32_t c);       // general category N* (regex \p{N})

// Python str.lower(): full lowercase mapping, including U+0130 -> "i\u0307" and the
// Final_Sigma rule for U+03A3.
std::u32string lower(std::u32string_view s);

// Python str.split() with no argument: runs of is_space() separate, no empty pieces.
std::vector<std::u32string_view> split(std::u32string_view s);

// Python str.rstrip() with no argument.
std::u32string_view rstrip(std::u32string_view s);

// Version of the Unicode Character Database the tables come from ("15.0.0").
const char* data_version();

}  // namespace nmt::unicode
