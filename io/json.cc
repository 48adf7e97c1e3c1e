#include "io/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace nmt {
namespace {

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at s[i] (Unicode 15, table 3-7: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
size_t utf8_length(const std::string& s, size_t i) {
  const auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  const unsigned char c = at(0), c1 = at(1);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return continuation(c1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const bool second_ok = c == 0xE0   ? c1 >= 0xA0 && c1 <= 0xBF
                           : c == 0xED ? c1 >= 0x80 && c1 <= 0x9F
                                       : continuation(c1);
    return second_ok && continuation(at(2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const bool second_ok = c == 0xF0   ? c1 >= 0x90 && c1 <= 0xBF
                           : c == 0xF4 ? c1 >= 0x80 && c1 <= 0x8F
                                       : continuation(c1);
    return second_ok && continuation(at(2)) && continuation(at(3)) ? 4 : 0;
  }
  return 0;
}

// The escape JSON requires for an ASCII byte, or "" when it stands as itself.
std::string escape_ascii(unsigned char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      break;
  }
  if (c >= 0x20) return "";
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", c);
  return buf;
}

}  // namespace

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\\ufffd";  // one replacement character per byte that starts no valid sequence
      i += 1;
    } else if (n == 1) {
      const std::string escaped = escape_ascii(static_cast<unsigned char>(s[i]));
      out += escaped.empty() ? std::string(1, s[i]) : escaped;
      i += 1;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip, "C" locale
  if (ec != std::errc()) return "null";                            // cannot happen for a finite double in 32 bytes
  return std::string(buf, end);
}

JsonObject& JsonObject::set_raw(const std::string& key, const std::string& json) {
  if (!members_.empty()) members_ += ", ";
  members_ += json_string(key) + ": " + json;
  return *this;
}

}  // namespace nmt
