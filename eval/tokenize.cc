#include "eval/tokenize.h"

#include "eval/unicode.h"

namespace nmt {
namespace {

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_period_comma(char32_t c) { return c == U'.' || c == U','; }

// Python's str.replace(from, to): non-overlapping, left to right.
std::u32string replace_all(std::u32string_view s, std::u32string_view from, std::u32string_view to) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (true) {
    const size_t j = s.find(from, i);
    if (j == std::u32string_view::npos) break;
    out.append(s.substr(i, j - i));
    out.append(to);
    i = j + from.size();
  }
  out.append(s.substr(i));
  return out;
}

// re.sub(r'(A)(B)', repl, s) for two single-character classes A and B: scans left to
// right; where s[i] is in A and s[i+1] in B, emits pre s[i] mid s[i+1] post and resumes
// after the pair, as Python's non-overlapping matching does.
template <typename First, typename Second>
std::u32string sub_pairs(std::u32string_view s, First in_first, Second in_second, std::u32string_view pre,
                         std::u32string_view mid, std::u32string_view post) {
  std::u32string out;
  out.reserve(s.size() + s.size() / 4);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && in_first(s[i]) && in_second(s[i + 1])) {
      out.append(pre);
      out += s[i];
      out.append(mid);
      out += s[i + 1];
      out.append(post);
      i += 2;
    } else {
      out += s[i];
      ++i;
    }
  }
  return out;
}

// ' '.join(line.split())
std::u32string join_words(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (auto w : unicode::split(s)) {
    if (!out.empty()) out += U' ';
    out.append(w);
  }
  return out;
}

// The first regex of sacreBLEU's TokenizerRegexp: [\{-\~\[-\` -\&\(-\+\:-\@\/], i.e.
// { | } ~  [ \ ] ^ _ `  space ! " # $ % &  ( ) * +  : ; < = > ? @  /
bool is_13a_symbol(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) || (c >= 0x28 && c <= 0x2B) ||
         (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

}  // namespace

const char* tokenizer_name(BleuTokenizer tok) {
  switch (tok) {
    case BleuTokenizer::k13a:
      return "13a";
    case BleuTokenizer::kIntl:
      return "intl";
    case BleuTokenizer::kNone:
      return "none";
  }
  return "?";
}

std::optional<BleuTokenizer> tokenizer_from_name(std::string_view name) {
  if (name == "13a") return BleuTokenizer::k13a;
  if (name == "intl") return BleuTokenizer::kIntl;
  if (name == "none") return BleuTokenizer::kNone;
  return std::nullopt;
}

std::u32string tokenize_13a(std::u32string_view input) {
  // Language-independent part (sacrebleu/tokenizers/tokenizer_13a.py).
  std::u32string line = replace_all(input, U"<skipped>", U"");
  line = replace_all(line, U"-\n", U"");
  line = replace_all(line, U"\n", U" ");
  if (line.find(U'&') != std::u32string::npos) {
    line = replace_all(line, U"&quot;", U"\"");
    line = replace_all(line, U"&amp;", U"&");
    line = replace_all(line, U"&lt;", U"<");
    line = replace_all(line, U"&gt;", U">");
  }
  // Language-dependent part (tokenizer_re.py), on " line ".
  std::u32string s;
  s.reserve(line.size() * 2 + 2);
  s += U' ';
  for (char32_t c : line) {
    if (is_13a_symbol(c)) {
      s += U' ';
      s += c;
      s += U' ';
    } else {
      s += c;
    }
  }
  s += U' ';
  auto not_digit = [](char32_t c) { return !is_digit(c); };
  auto dash = [](char32_t c) { return c == U'-'; };
  // Period and comma unless preceded by a digit: ([^0-9])([\.,]) -> \1 \2
  s = sub_pairs(s, not_digit, is_period_comma, U"", U" ", U" ");
  // Period and comma unless followed by a digit: ([\.,])([^0-9]) -> ' \1 \2'
  s = sub_pairs(s, is_period_comma, not_digit, U" ", U" ", U"");
  // Dash when preceded by a digit: ([0-9])(-) -> '\1 \2 '
  s = sub_pairs(s, is_digit, dash, U"", U" ", U" ");
  return join_words(s);
}

std::u32string tokenize_intl(std::u32string_view line) {
  auto not_number = [](char32_t c) { return !unicode::is_number(c); };
  auto punct = [](char32_t c) { return unicode::is_punctuation(c); };
  // (\P{N})(\p{P}) -> '\1 \2 '
  std::u32string s = sub_pairs(line, not_number, punct, U"", U" ", U" ");
  // (\p{P})(\P{N}) -> ' \1 \2'
  s = sub_pairs(s, punct, not_number, U" ", U" ", U"");
  // (\p{S}) -> ' \1 '
  std::u32string out;
  out.reserve(s.size() + 8);
  for (char32_t c : s) {
    if (unicode::is_symbol(c)) {
      out += U' ';
      out += c;
      out += U' ';
    } else {
      out += c;
    }
  }
  return join_words(out);
}

std::u32string tokenize(std::u32string_view line, BleuTokenizer tok) {
  switch (tok) {
    case BleuTokenizer::k13a:
      return tokenize_13a(line);
    case BleuTokenizer::kIntl:
      return tokenize_intl(line);
    case BleuTokenizer::kNone:
      break;
  }
  return std::u32string(line);
}

std::string tokenize(const std::string& line, BleuTokenizer tok) {
  return unicode::encode_utf8(tokenize(unicode::decode_utf8(line), tok));
}

}  // namespace nmt
