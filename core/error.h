// Errors carry the actual values that were wrong; they are thrown by library code
// and caught once, in main (cli/main.cc), which prints them and exits non-zero.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace nmt {

// Something the program got wrong (a broken invariant, a failed oneDNN call).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something the user gave us that is wrong: a bad file, option or value. Exit code 1.
class InputError : public Error {
 public:
  using Error::Error;
};

// Bad command-line usage (unknown option, bad value). Exit code 2. Thrown only by cli/,
// the one place that knows about command lines.
class UsageError : public Error {
 public:
  using Error::Error;
};

// An option value that breaks its option's rule, thrown by the validate() of a library's
// options (TrainOptions, SearchOptions, ModelConfig, ...) and by the parsers of option
// values. The message names the option by its key, the name it has in config files and
// model files (the command-line flag without its dashes), states the rule and carries
// the value: "beam-size must be >= 1, got 0"; a rule across options adds the others'
// values: "dim-emb must be a multiple of transformer-heads, got 250 with transformer-heads 4".
// It is an InputError (exit code 1) where the options came from a file, e.g. a model
// file's configuration; cli::run reports it as a usage error (exit code 2), since there
// every option value came from the command line or its --config file.
class OptionError : public InputError {
 public:
  using InputError::InputError;
};

// Concatenates anything streamable: cat("expected ", n, " columns, got ", m).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename T>
std::string vec_str(const std::vector<T>& v) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ']';
  return os.str();
}

}  // namespace nmt
