// The body of POST /v1/translate (serve/request.h) and the model names of nmt serve
// (serve/models.h): defaults, every field, and a 400 naming the field for each bad one.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "serve/models.h"
#include "serve/request.h"

namespace nmt::serve {
namespace {

SearchOptions defaults() {
  SearchOptions s;
  s.beam_size = 5;
  s.normalize = 0.6f;
  return s;
}

TranslateRequest parse(const std::string& body) { return parse_translate_request(body, defaults(), RequestLimits()); }

// The status and message of the HttpError that parsing `body` throws.
std::pair<int, std::string> refusal(const std::string& body, const RequestLimits& limits = RequestLimits()) {
  try {
    parse_translate_request(body, defaults(), limits);
  } catch (const HttpError& e) {
    return {e.status(), e.what()};
  }
  return {200, ""};
}

TEST(ServeRequest, OnlyTextIsRequiredAndTheRestTakesTheDefaults) {
  const TranslateRequest r = parse(R"({"text": ["a b", ""]})");
  EXPECT_EQ(r.text, (std::vector<std::string>{"a b", ""}));
  EXPECT_EQ(r.model, "");
  EXPECT_EQ(r.search.beam_size, 5);
  EXPECT_EQ(r.search.n_best, 1);
  EXPECT_FALSE(r.n_best);
  EXPECT_FLOAT_EQ(r.search.normalize, 0.6f);
  EXPECT_FALSE(r.search.keep_alignment);
}

TEST(ServeRequest, EveryFieldIsRead) {
  const TranslateRequest r =
      parse(R"({"n_best": 3, "text": ["x"], "model": "att", "beam_size": 4, "normalize": 1, "alignment": true})");
  EXPECT_EQ(r.model, "att");
  EXPECT_EQ(r.search.beam_size, 4);
  EXPECT_EQ(r.search.n_best, 3);  // checked against the beam size whatever the order of the fields
  EXPECT_TRUE(r.n_best);
  EXPECT_FLOAT_EQ(r.search.normalize, 1.0f);
  EXPECT_TRUE(r.search.keep_alignment);
}

TEST(ServeRequest, EachBadFieldIsA400NamingIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"text": ["a"])", "JSON"},
      {R"("text")", "object"},
      {R"({"model": "a"})", "text is missing"},
      {R"({"text": "a"})", "text must be an array"},
      {R"({"text": ["a", null]})", "text[1] must be a string"},
      {R"({"text": ["a\nb"]})", "text[0] must be one line"},
      {R"({"text": [], "model": 1})", "model must be a string"},
      {R"({"text": [], "beam_size": 0})", "beam_size must be in [1, 64], got 0"},
      {R"({"text": [], "beam_size": 2.5})", "beam_size must be an integer"},
      {R"({"text": [], "beam_size": 2, "n_best": 3})", "n_best must be in [1, 2], got 3"},
      {R"({"text": [], "normalize": "x"})", "normalize must be a number"},
      {R"({"text": [], "normalize": -0.5})", "normalize must be in [0, 10]"},
      {R"({"text": [], "alignment": 1})", "alignment must be true or false"},
      {R"({"text": [], "beams": 1})", "unknown field 'beams'"},
  };
  for (const auto& [body, message] : cases) {
    const auto [status, what] = refusal(body);
    EXPECT_EQ(status, 400) << body;
    EXPECT_NE(what.find(message), std::string::npos) << body << ": " << what;
  }
}

TEST(ServeRequest, LimitsOnSentencesAndBeam) {
  RequestLimits limits;
  limits.max_sentences = 2;
  limits.max_beam_size = 8;
  EXPECT_EQ(refusal(R"({"text": ["a", "b", "c"]})", limits).second, "text must have at most 2 sentences, got 3");
  EXPECT_EQ(refusal(R"({"text": [], "beam_size": 9})", limits).second, "beam_size must be in [1, 8], got 9");
  EXPECT_EQ(refusal(R"({"text": ["a", "b"], "beam_size": 8})", limits).first, 200);
}

TEST(ServeModels, NamesAreGivenOrTheFileStem) {
  EXPECT_EQ(model_name_and_path("runs/att.bin"), std::make_pair(std::string("att"), std::string("runs/att.bin")));
  EXPECT_EQ(model_name_and_path("big=runs/tf.bin"), std::make_pair(std::string("big"), std::string("runs/tf.bin")));
  // A '=' in a folder name is part of the path.
  EXPECT_EQ(model_name_and_path("runs/a=b/tf.bin"), std::make_pair(std::string("tf"), std::string("runs/a=b/tf.bin")));
  EXPECT_THROW(model_name_and_path("=tf.bin"), OptionError);
  EXPECT_THROW(model_name_and_path("tf="), OptionError);
}

}  // namespace
}  // namespace nmt::serve
