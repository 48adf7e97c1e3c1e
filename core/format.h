// printf-style formatting into a std::string, for reports whose figures are laid out in
// columns and fixed decimals (nmt bench): the compiler checks the arguments against the
// format, as it does for printf.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

namespace nmt {

__attribute__((format(printf, 1, 2))) inline std::string printf_string(const char* format, ...) {
  va_list args, copy;
  va_start(args, format);
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::vector<char> buf(n > 0 ? static_cast<size_t>(n) + 1 : 1, '\0');  // + the terminating '\0'
  if (n > 0) std::vsnprintf(buf.data(), buf.size(), format, args);
  va_end(args);
  return std::string(buf.data(), n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace nmt
