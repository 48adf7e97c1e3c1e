// io/json.h: what the reports write is valid JSON for any string and any double, and reads
// back (through the strict reader of json_check.h) as what was written.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "io/json.h"
#include "json_check.h"

namespace nmt {
namespace {

using testing::Json;
using testing::JsonReader;

TEST(JsonTest, StringsEscapeQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_string(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(json_string(std::string("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(json_string("/ and \x7f stay"), "\"/ and \x7f stay\"");
}

TEST(JsonTest, StringsKeepUtf8AndReplaceInvalidBytes) {
  const std::string utf8 = "Grüße, 東京, \xF0\x9F\x98\x80";  // 2-, 3- and 4-byte sequences
  EXPECT_EQ(json_string(utf8), "\"" + utf8 + "\"");
  EXPECT_EQ(json_string("caf\xE9"), "\"caf\\ufffd\"");                             // Latin-1 é
  EXPECT_EQ(json_string("\xC0\xAF"), "\"\\ufffd\\ufffd\"");                        // overlong '/'
  EXPECT_EQ(json_string("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // a UTF-16 surrogate
  EXPECT_EQ(json_string("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
  EXPECT_EQ(json_string("\xE2\x82"), "\"\\ufffd\\ufffd\"");                        // cut short at the end
  EXPECT_EQ(JsonReader::parse(json_string("x\xFFy")).s, "x\xEF\xBF\xBDy");
}

TEST(JsonTest, NumbersRoundTripAndNonFiniteIsNull) {
  EXPECT_EQ(json_number(0), "0");
  EXPECT_EQ(json_number(812.5), "812.5");
  EXPECT_EQ(json_number(-3), "-3");
  EXPECT_EQ(json_number(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(json_number(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(json_number(-std::numeric_limits<double>::infinity()), "null");
  for (double v : {0.1, 1.0 / 3.0, 1e-7, 123456789.125, 6.02e23, -2.5e-300, std::numeric_limits<double>::max()}) {
    const Json j = JsonReader::parse(json_number(v));
    ASSERT_EQ(j.kind, Json::number) << json_number(v);
    EXPECT_EQ(j.n, v) << json_number(v);
  }
}

TEST(JsonTest, ObjectsKeepOrderAndNest) {
  JsonObject inner;
  inner.set("available", false);
  JsonObject o;
  o.set("name", "a \"b\"").set("count", int64_t{1} << 60).set("threads", 2).set("rate", 1.5);
  o.set("ok", true).set("none", std::nan("")).set_null("nothing").set("inner", inner).set("empty", JsonObject());
  EXPECT_EQ(o.str(),
            "{\"name\": \"a \\\"b\\\"\", \"count\": 1152921504606846976, \"threads\": 2, \"rate\": 1.5, \"ok\": true, "
            "\"none\": null, \"nothing\": null, \"inner\": {\"available\": false}, \"empty\": {}}");
  const Json j = JsonReader::parse(o.str());
  EXPECT_EQ(j["name"].s, "a \"b\"");
  EXPECT_EQ(j["inner"]["available"].kind, Json::boolean);
  EXPECT_EQ(j["none"].kind, Json::null);
}

// The reader the CLI tests rely on must refuse what is not JSON, or they could not fail.
TEST(JsonTest, ReaderRefusesInvalidJson) {
  for (const char* bad : {"",
                          "{",
                          "{\"a\": 1,}",
                          "[1, 2,]",
                          "{\"a\" 1}",
                          "{'a': 1}",
                          "NaN",
                          "{\"a\": nan}",
                          "{\"a\": inf}",
                          "01",
                          "1.",
                          ".5",
                          "1e",
                          "-",
                          "\"\\x\"",
                          "\"a\nb\"",
                          "{\"a\": 1} x",
                          "{\"a\": 1, \"a\": 2}",
                          "\"\\ud800\"",
                          "tru"}) {
    EXPECT_THROW(JsonReader::parse(bad), std::runtime_error) << bad;
  }
  EXPECT_EQ(JsonReader::parse(" [1, -0.5e+2, \"\\u00e9\\ud83d\\ude00\", null] ").items.size(), 4u);
  EXPECT_EQ(JsonReader::parse("\"\\u00e9\\ud83d\\ude00\"").s, "\xC3\xA9\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace nmt
