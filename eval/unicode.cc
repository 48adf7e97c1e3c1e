#include "eval/unicode.h"

#include <algorithm>

#include "eval/unicode_tables.h"

namespace nmt::unicode {
namespace {

using unicode_tables::Range;

bool in_ranges(const Range* table, size_t size, char32_t c) {
  const Range* end = table + size;
  // First range whose last >= c; c is inside it iff first <= c.
  const Range* it = std::lower_bound(table, end, c, [](const Range& r, char32_t v) { return r.last < v; });
  return it != end && it->first <= c;
}

bool is_cased(char32_t c) { return in_ranges(unicode_tables::kCased, unicode_tables::kCasedSize, c); }

bool is_case_ignorable(char32_t c) {
  return in_ranges(unicode_tables::kCaseIgnorable, unicode_tables::kCaseIgnorableSize, c);
}

char32_t simple_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  const auto* table = unicode_tables::kLower;
  const auto* end = table + unicode_tables::kLowerSize;
  const auto* it =
      std::lower_bound(table, end, c, [](const unicode_tables::LowerRun& r, char32_t v) { return r.last < v; });
  if (it == end || it->first > c || (c - it->first) % it->step != 0) return c;
  return static_cast<char32_t>(static_cast<int64_t>(c) + it->delta);
}

// Python's handle_capital_sigma: U+03A3 at position i is final when preceded by a cased
// letter and not followed by one (case-ignorable characters are skipped both ways).
bool final_sigma(std::u32string_view s, size_t i) {
  size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    c = s[--j];
    if (!is_case_ignorable(c)) {
      found = true;
      break;
    }
  }
  if (!found || !is_cased(c)) return false;
  for (size_t k = i + 1; k < s.size(); ++k)
    if (!is_case_ignorable(s[k])) return !is_cased(s[k]);
  return true;
}

}  // namespace

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      out += static_cast<char32_t>(b);
      ++i;
      continue;
    }
    size_t len = 0;
    char32_t c = 0, min = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2, c = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3, c = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4, c = b & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (ok && (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))) ok = false;
    if (ok) {
      out += c;
      i += len;
    } else {
      out += U'\uFFFD';
      ++i;
    }
  }
  return out;
}

bool is_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  return in_ranges(unicode_tables::kSpace, unicode_tables::kSpaceSize, c);
}

bool is_punctuation(char32_t c) { return in_ranges(unicode_tables::kPunctuation, unicode_tables::kPunctuationSize, c); }

bool is_symbol(char32_t c) { return in_ranges(unicode_tables::kSymbol, unicode_tables::kSymbolSize, c); }

bool is_number(char32_t c) { return in_ranges(unicode_tables::kNumber, unicode_tables::kNumberSize, c); }

std::u32string lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    if (c == 0x3A3) {
      out += final_sigma(s, i) ? U'\u03C2' : U'\u03C3';
      continue;
    }
    if (c >= 0x80) {
      const auto* sp = unicode_tables::kSpecialLower;
      const auto* sp_end = sp + unicode_tables::kSpecialLowerSize;
      const auto* it =
          std::lower_bound(sp, sp_end, c, [](const unicode_tables::SpecialLower& e, char32_t v) { return e.cp < v; });
      if (it != sp_end && it->cp == c) {
        out.append(it->lower, it->lower + it->size);
        continue;
      }
    }
    out += simple_lower(c);
  }
  return out;
}

std::vector<std::u32string_view> split(std::u32string_view s) {
  std::vector<std::u32string_view> words;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    while (i < n && is_space(s[i])) ++i;
    const size_t start = i;
    while (i < n && !is_space(s[i])) ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

std::u32string_view rstrip(std::u32string_view s) {
  size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}

const char* data_version() { return unicode_tables::kUnicodeVersion; }

}  // namespace nmt::unicode
