#include "serve/request.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace nmt::serve {
namespace {

using nlohmann::json;

HttpError bad(const std::string& message) { return HttpError(400, message); }

std::vector<std::string> text_field(const json& v, size_t max_sentences) {
  if (!v.is_array()) throw bad(cat("text must be an array of strings, got ", v.type_name()));
  if (v.size() > max_sentences) throw bad(cat("text must have at most ", max_sentences, " sentences, got ", v.size()));
  std::vector<std::string> lines;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) throw bad(cat("text[", i, "] must be a string, got ", v[i].type_name()));
    const std::string& s = v[i].get_ref<const std::string&>();
    // A line of `nmt translate` holds no line break, so a sentence here holds none either.
    if (s.find_first_of("\r\n") != std::string::npos)
      throw bad(cat("text[", i, "] must be one line, got a line break"));
    lines.push_back(s);
  }
  return lines;
}

int int_field(const json& v, const char* name, int lo, int hi) {
  if (!v.is_number_integer()) throw bad(cat(name, " must be an integer, got ", v.dump()));
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) throw bad(cat(name, " must be in [", lo, ", ", hi, "], got ", x));
  return static_cast<int>(x);
}

}  // namespace

TranslateRequest parse_translate_request(const std::string& body, const SearchOptions& defaults,
                                         const RequestLimits& limits) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw bad(cat("the body must be JSON: ", e.what()));
  }
  if (!j.is_object()) throw bad(cat("the body must be a JSON object, got ", j.type_name()));
  TranslateRequest r;
  r.search = defaults;
  if (!j.contains("text")) throw bad("text is missing (an array of strings)");
  for (const auto& [key, v] : j.items()) {
    if (key == "text") {
      r.text = text_field(v, limits.max_sentences);
    } else if (key == "model") {
      if (!v.is_string()) throw bad(cat("model must be a string, got ", v.type_name()));
      r.model = v.get<std::string>();
    } else if (key == "beam_size") {
      r.search.beam_size = int_field(v, "beam_size", 1, limits.max_beam_size);
    } else if (key == "n_best") {
      r.n_best = true;
    } else if (key == "normalize") {
      if (!v.is_number()) throw bad(cat("normalize must be a number, got ", v.dump()));
      r.search.normalize = v.get<float>();
      if (!(r.search.normalize >= 0 && r.search.normalize <= 10))
        throw bad(cat("normalize must be in [0, 10], got ", v.dump()));
    } else if (key == "alignment") {
      if (!v.is_boolean()) throw bad(cat("alignment must be true or false, got ", v.dump()));
      r.search.keep_alignment = v.get<bool>();
    } else {
      throw bad(cat("unknown field '", key, "' (the fields are text, model, beam_size, n_best, normalize, alignment)"));
    }
  }
  // n_best is checked against the beam size, whichever order the fields came in.
  r.search.n_best = r.n_best ? int_field(j["n_best"], "n_best", 1, r.search.beam_size) : 1;
  return r;
}

}  // namespace nmt::serve
