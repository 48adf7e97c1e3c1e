#include "io/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace nmt {

void write_file_atomically(const std::string& path, const std::string& bytes, const std::string& what) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw InputError(cat(path, ": cannot create a temporary file: ", std::strerror(errno)));
  const char* p = bytes.data();
  size_t left = bytes.size();
  int err = 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (!err && ::fchmod(fd, 0644) != 0) err = errno;
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    throw InputError(cat(path, ": cannot write ", what, ": ", std::strerror(err)));
  }
}

}  // namespace nmt
