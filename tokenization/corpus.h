// Reading text corpora: one sentence a line, plain or gzip-compressed (detected by the
// gzip magic bytes, not the file name), "-" meaning stdin. Line endings ("\n" or "\r\n")
// are stripped, empty lines are kept, and every line is checked to be valid UTF-8.
// Problems throw nmt::InputError naming the file (and line): missing/unreadable file,
// corrupt or truncated gzip stream, invalid UTF-8 ("FILE:LINE: invalid UTF-8 (byte 0xC3
// at column 17)", the column counted in bytes from 1).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nmt {

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequences). Otherwise sets *bad_offset (when not
// null) to the byte offset where the first invalid sequence starts.
bool is_valid_utf8(std::string_view s, size_t* bad_offset = nullptr);

// Streams the lines of one corpus file.
//   LineReader in("train.en.gz");
//   for (std::string line; in.next(line);) ...
class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws InputError if it cannot be opened
  ~LineReader();
  LineReader(LineReader&&) noexcept;
  LineReader& operator=(LineReader&&) noexcept;

  // Reads the next line into `line` (without its ending); false at the end of the file.
  bool next(std::string& line);
  // 1-based number of the line last returned by next() (0 before the first).
  int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  // The name used in messages: the path, or "<stdin>" for "-".
  std::string display_name() const;

 private:
  struct Source;
  std::string path_;
  std::unique_ptr<Source> src_;
  int64_t line_number_ = 0;
};

// All lines of a corpus file (see LineReader).
std::vector<std::string> read_lines(const std::string& path);

}  // namespace nmt
