#include "tokenization/corpus.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace nmt {

bool is_valid_utf8(std::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return k < n && p[k] >= lo && p[k] <= hi; };
  size_t i = 0;
  while (i < n) {
    // Fast path: eight ASCII bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned c = p[i];
    size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if (c < 0xC2) {  // a continuation byte, or an overlong 2-byte form (C0, C1)
      len = 0;
    } else if (c < 0xE0) {
      len = cont(i + 1) ? 2 : 0;
    } else if (c < 0xF0) {  // E0: no overlong forms; ED: no UTF-16 surrogates
      const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      len = cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    } else if (c < 0xF5) {  // F0: no overlong forms; F4: nothing above U+10FFFF
      const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      len = cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    if (len == 0) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

// The bytes of one file (or stdin), inflated when they start with the gzip magic.
// Concatenated gzip members (as made by `cat a.gz b.gz`) are read as one stream.
struct LineReader::Source {
  static constexpr size_t kChunk = 1 << 16;

  std::string name;  // for messages
  int fd = -1;
  bool owns_fd = false;
  std::vector<unsigned char> in = std::vector<unsigned char>(kChunk);
  size_t in_pos = 0, in_len = 0;
  bool in_eof = false;

  bool gzip = false;
  bool member_ended = false;
  z_stream zs{};
  bool zs_init = false;
  std::vector<unsigned char> out;

  std::string buf;  // decoded bytes not yet returned as lines start at `pos`
  size_t pos = 0;
  size_t scanned = 0;  // no '\n' in buf[pos, scanned)

  Source(const std::string& path, const std::string& display) : name(display) {
    if (path == "-") {
      fd = STDIN_FILENO;
    } else {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw InputError(cat(name, ": cannot open: ", std::strerror(errno)));
      owns_fd = true;
    }
    try {
      while (in_len < 2 && !in_eof) read_more();
      gzip = in_len >= 2 && in[0] == 0x1f && in[1] == 0x8b;
      if (gzip) {
        if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(cat(name, ": cannot initialise zlib"));
        zs_init = true;
        out.resize(4 * kChunk);
      }
    } catch (...) {
      if (owns_fd) ::close(fd);
      throw;
    }
  }
  ~Source() {
    if (zs_init) inflateEnd(&zs);
    if (owns_fd) ::close(fd);
  }

  // Appends what read() gives to in[in_len...]; sets in_eof at the end of the file.
  void read_more() {
    if (in_len == in.size()) return;
    for (;;) {
      const ssize_t got = ::read(fd, in.data() + in_len, in.size() - in_len);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw InputError(cat(name, ": read error: ", std::strerror(errno)));
      if (got == 0) in_eof = true;
      in_len += static_cast<size_t>(got);
      return;
    }
  }
  // Makes sure some unconsumed input is buffered unless the file has ended.
  bool have_input() {
    if (in_pos < in_len) return true;
    in_pos = in_len = 0;
    while (in_len == 0 && !in_eof) read_more();
    return in_len > 0;
  }

  // Appends more decoded bytes to buf; false when the file has no more.
  bool produce() {
    if (!gzip) {
      if (!have_input()) return false;
      buf.append(reinterpret_cast<const char*>(in.data() + in_pos), in_len - in_pos);
      in_pos = in_len;
      return true;
    }
    for (;;) {
      if (member_ended) {
        if (!have_input()) return false;
        if (in[in_pos] != 0x1f)
          throw InputError(cat(name, ": corrupt gzip file: trailing data after the compressed stream"));
        inflateReset(&zs);
        member_ended = false;
      }
      if (!have_input()) throw InputError(cat(name, ": corrupt gzip file: unexpected end of file (truncated?)"));
      zs.next_in = in.data() + in_pos;
      zs.avail_in = static_cast<uInt>(in_len - in_pos);
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      const int ret = inflate(&zs, Z_NO_FLUSH);
      in_pos = in_len - zs.avail_in;
      const size_t produced = out.size() - zs.avail_out;
      if (ret == Z_STREAM_END) {
        member_ended = true;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        throw InputError(cat(name, ": corrupt gzip file: ", zs.msg ? zs.msg : zError(ret)));
      }
      if (produced > 0) {
        buf.append(reinterpret_cast<const char*>(out.data()), produced);
        return true;
      }
    }
  }
};

LineReader::LineReader(const std::string& path) : path_(path) { src_ = std::make_unique<Source>(path, display_name()); }
LineReader::~LineReader() = default;
LineReader::LineReader(LineReader&&) noexcept = default;
LineReader& LineReader::operator=(LineReader&&) noexcept = default;

std::string LineReader::display_name() const { return path_ == "-" ? std::string("<stdin>") : path_; }

bool LineReader::next(std::string& line) {
  Source& s = *src_;
  bool last = false;  // the final line had no '\n'
  size_t end;
  for (;;) {
    const void* nl = std::memchr(s.buf.data() + s.scanned, '\n', s.buf.size() - s.scanned);
    if (nl) {
      end = static_cast<const char*>(nl) - s.buf.data();
      break;
    }
    // Drop the returned lines before reading more, so buf holds at most one line + one chunk.
    s.buf.erase(0, s.pos);
    s.pos = 0;
    s.scanned = s.buf.size();
    if (!s.produce()) {
      if (s.buf.empty()) return false;
      end = s.buf.size();
      last = true;
      break;
    }
  }
  size_t len = end - s.pos;
  if (len > 0 && s.buf[s.pos + len - 1] == '\r') --len;
  line.assign(s.buf, s.pos, len);
  s.pos = last ? end : end + 1;
  s.scanned = s.pos;
  ++line_number_;
  size_t bad = 0;
  if (!is_valid_utf8(line, &bad)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(line[bad]));
    throw InputError(
        cat(display_name(), ":", line_number_, ": invalid UTF-8 (byte ", hex, " at column ", bad + 1, ")"));
  }
  return true;
}

std::vector<std::string> read_lines(const std::string& path) {
  LineReader in(path);
  std::vector<std::string> lines;
  for (std::string line; in.next(line);) lines.push_back(std::move(line));
  return lines;
}

}  // namespace nmt
