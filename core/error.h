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

// Bad command-line usage (unknown option, bad value). Exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
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
