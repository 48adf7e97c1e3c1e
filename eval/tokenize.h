// sacreBLEU's BLEU tokenizers, reproduced exactly: `13a` (mteval-v13a.pl, sacreBLEU's
// default), `intl` (mteval-v14.pl --international-tokenization) and `none`. The output is
// the tokens joined by single spaces, as sacreBLEU's tokenizers return it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nmt {

enum class BleuTokenizer { k13a, kIntl, kNone };

// "13a", "intl", "none" (the names sacreBLEU's --tokenize takes and its signature shows).
const char* tokenizer_name(BleuTokenizer tok);
std::optional<BleuTokenizer> tokenizer_from_name(std::string_view name);

// On code points. tokenize_13a unescapes &quot; &amp; &lt; &gt;, drops <skipped>, splits
// off ASCII punctuation and symbols, and `.`/`,` unless between digits, `-` after a digit.
std::u32string tokenize_13a(std::u32string_view line);
// Splits off Unicode punctuation (category P) unless both neighbours are numbers
// (category N), and every symbol (category S).
std::u32string tokenize_intl(std::u32string_view line);
std::u32string tokenize(std::u32string_view line, BleuTokenizer tok);

// UTF-8 convenience wrapper (invalid bytes become U+FFFD).
std::string tokenize(const std::string& line, BleuTokenizer tok);

}  // namespace nmt
