// JSON text for machine-readable reports (nmt bench ... --json): an object built member by
// member, in insertion order. The output is always valid JSON (RFC 8259), whatever it is given:
// - strings are escaped, and bytes that are not UTF-8 (a Latin-1 file name) become U+FFFD,
//   since JSON text must be Unicode;
// - a number that is not finite (a rate over zero seconds, a NaN) is written as null, since
//   JSON has no NaN or infinity.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

namespace nmt {

// `s` as a JSON string literal, quotes included.
std::string json_string(const std::string& s);
// `v` as the shortest JSON number that reads back as the same double, or null.
std::string json_number(double v);

class JsonObject {
 public:
  JsonObject& set(const std::string& key, const std::string& value) { return set_raw(key, json_string(value)); }
  JsonObject& set(const std::string& key, const char* value) { return set_raw(key, json_string(value)); }
  JsonObject& set(const std::string& key, double value) { return set_raw(key, json_number(value)); }
  JsonObject& set(const std::string& key, bool value) { return set_raw(key, value ? "true" : "false"); }
  JsonObject& set(const std::string& key, const JsonObject& value) { return set_raw(key, value.str()); }
  // Integers exactly (a double would round counts above 2^53); bool has its own overload.
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonObject& set(const std::string& key, T value) {
    return set_raw(key, std::to_string(value));
  }
  JsonObject& set_null(const std::string& key) { return set_raw(key, "null"); }

  // The object on one line: {"key": value, ...}.
  std::string str() const { return "{" + members_ + "}"; }

 private:
  JsonObject& set_raw(const std::string& key, const std::string& json);

  std::string members_;
};

}  // namespace nmt
