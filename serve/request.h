// The body of POST /v1/translate, read and checked field by field:
//   {"text": ["...", ...], "model": "att", "beam_size": 5, "n_best": 1, "normalize": 0.6, "alignment": false}
// Only "text" is required; "model" may be left out when one model is loaded, and every other
// field takes the server's default (the translate options it was started with). Anything
// else is refused with an HttpError naming the field.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "translate/search.h"

namespace nmt::serve {

// An answer other than 200: its HTTP status and a message for the client.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// What a server accepts in one request.
struct RequestLimits {
  size_t max_sentences = 1000;  // entries of "text"
  int max_beam_size = 64;
};

struct TranslateRequest {
  std::vector<std::string> text;
  std::string model;     // empty: the only model
  SearchOptions search;  // the defaults with the request's beam_size, n_best, normalize, alignment
  bool n_best = false;   // "n_best" was given: answer every hypothesis
};

// Parses `body` over `defaults`; HttpError 400 naming the field for malformed JSON, a field
// of the wrong type or out of range, a missing "text" or an unknown field.
TranslateRequest parse_translate_request(const std::string& body, const SearchOptions& defaults,
                                         const RequestLimits& limits);

}  // namespace nmt::serve
