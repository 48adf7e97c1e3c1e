// A strict JSON reader for tests (RFC 8259: no trailing commas, no NaN, no comments, one
// value and nothing after it), so that a test of JSON output fails on anything another reader
// (Python's json, jq) would refuse. Not for production: no depth limit, numbers as double.
#pragma once

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace nmt::testing {

struct Json {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> items;              // array
  std::map<std::string, Json> members;  // object

  bool has(const std::string& key) const { return kind == object && members.count(key); }
  // The member `key` of an object; throws naming the key when it is missing.
  const Json& operator[](const std::string& key) const {
    if (!has(key)) throw std::runtime_error("no member \"" + key + "\"");
    return members.at(key);
  }
};

class JsonReader {
 public:
  // Parses the whole of `text`; throws std::runtime_error naming the offset of the first error.
  static Json parse(const std::string& text) {
    JsonReader r(text);
    Json v = r.value();
    r.space();
    if (r.i_ != text.size()) r.fail("text after the value");
    return v;
  }

 private:
  explicit JsonReader(const std::string& t) : t_(t) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(i_));
  }
  void space() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    space();
    if (i_ < t_.size() && t_[i_] == c) return ++i_, true;
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool word(const std::string& w) {
    if (t_.compare(i_, w.size(), w) != 0) return false;
    i_ += w.size();
    return true;
  }

  Json value() {
    space();
    Json v;
    if (i_ >= t_.size()) fail("expected a value");
    const char c = t_[i_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return v.kind = Json::string, v.s = string(), v;
    if (word("null")) return v;
    if (word("true")) return v.kind = Json::boolean, v.b = true, v;
    if (word("false")) return v.kind = Json::boolean, v;
    return v.kind = Json::number, v.n = number(), v;
  }
  Json object() {
    Json v;
    v.kind = Json::object;
    expect('{');
    if (eat('}')) return v;
    do {
      space();
      if (i_ >= t_.size() || t_[i_] != '"') fail("expected a key");
      const std::string key = string();
      if (v.members.count(key)) fail("duplicate key \"" + key + "\"");
      expect(':');
      v.members[key] = value();
    } while (eat(','));
    expect('}');
    return v;
  }
  Json array() {
    Json v;
    v.kind = Json::array;
    expect('[');
    if (eat(']')) return v;
    do v.items.push_back(value());
    while (eat(','));
    expect(']');
    return v;
  }
  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  double number() {
    const size_t start = i_;
    auto digits = [&] {
      const size_t from = i_;
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
      return i_ - from;
    };
    word("-");
    const bool leading_zero = i_ < t_.size() && t_[i_] == '0';
    const size_t whole = digits();
    if (whole == 0 || (leading_zero && whole > 1)) fail("bad number");
    if (word(".") && digits() == 0) fail("bad fraction");
    if (word("e") || word("E")) {
      if (!word("+")) word("-");
      if (digits() == 0) fail("bad exponent");
    }
    return std::strtod(t_.substr(start, i_ - start).c_str(), nullptr);
  }
  unsigned hex4() {
    if (i_ + 4 > t_.size()) fail("short \\u escape");
    const std::string h = t_.substr(i_, 4);
    if (h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) fail("bad \\u escape");
    i_ += 4;
    return static_cast<unsigned>(std::strtoul(h.c_str(), nullptr, 16));
  }
  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  unsigned escaped_code_point() {
    unsigned cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!word("\\u")) fail("high surrogate without its pair");
      const unsigned low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate without its pair");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    return cp;
  }
  std::string string() {
    ++i_;  // the opening quote
    std::string out;
    for (;;) {
      if (i_ >= t_.size()) fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(t_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= t_.size()) fail("unterminated escape");
      const char e = t_[i_++];
      const std::string plain = "\"\\/bfnrt", meant = "\"\\/\b\f\n\r\t";
      if (e == 'u') {
        append_utf8(out, escaped_code_point());
      } else if (plain.find(e) != std::string::npos) {
        out += meant[plain.find(e)];
      } else {
        fail(std::string("bad escape \\") + e);
      }
    }
  }

  const std::string& t_;
  size_t i_ = 0;
};

}  // namespace nmt::testing
