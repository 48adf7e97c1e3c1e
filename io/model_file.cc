#include "io/model_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>

#include "core/error.h"

namespace nmt {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the model file format is little-endian");

namespace {

constexpr char kMagic[8] = {'N', 'M', 'T', 'M', 'O', 'D', 'E', 'L'};
constexpr uint64_t kHeaderSize = 8 + 4 + 4 + 8;
constexpr uint64_t kTrailerSize = 4;
constexpr uint32_t kMaxRank = 16;

uint32_t tag(const char (&s)[5]) {
  uint32_t t;
  std::memcpy(&t, s, 4);
  return t;
}

uint32_t crc_update(uint32_t crc, const void* data, size_t n) {
  auto p = static_cast<const Bytef*>(data);
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, size_t(1) << 30));
    crc = static_cast<uint32_t>(crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

std::string errno_str() { return std::strerror(errno); }

// ---------------------------------------------------------------- writing

uint64_t str_size(const std::string& s) { return 8 + s.size(); }

uint64_t map_payload(const std::map<std::string, std::string>& m) {
  uint64_t n = 8;
  for (const auto& [k, v] : m) n += str_size(k) + str_size(v);
  return n;
}

uint64_t tensors_payload(const std::vector<std::pair<std::string, Tensor>>& ts) {
  uint64_t n = 8;
  for (const auto& [name, t] : ts) n += str_size(name) + 4 + 8 * t.shape().size() + 4 * uint64_t(t.numel());
  return n;
}

// Buffered writes to a file descriptor, with a running CRC once the body starts.
class Writer {
 public:
  Writer(int fd, const std::string& path) : fd_(fd), path_(path) { buf_.reserve(kBuf); }

  void start_crc() {
    flush();
    crc_on_ = true;
    crc_ = static_cast<uint32_t>(crc32(0, Z_NULL, 0));
  }
  uint32_t crc() const { return crc_; }

  void put(const void* data, size_t n) {
    if (crc_on_) crc_ = crc_update(crc_, data, n);
    if (buf_.size() + n <= kBuf) {
      buf_.append(static_cast<const char*>(data), n);
      return;
    }
    flush();
    if (n <= kBuf)
      buf_.append(static_cast<const char*>(data), n);
    else
      write_all(data, n);
  }
  void u32(uint32_t x) { put(&x, 4); }
  void u64(uint64_t x) { put(&x, 8); }
  void str(const std::string& s) {
    u64(s.size());
    put(s.data(), s.size());
  }

  void flush() {
    if (!buf_.empty()) write_all(buf_.data(), buf_.size());
    buf_.clear();
  }

 private:
  static constexpr size_t kBuf = 1 << 20;

  void write_all(const void* data, size_t n) {
    auto p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t(1) << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        throw InputError(cat(path_, ": cannot write: ", errno_str()));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  int fd_;
  std::string path_;
  std::string buf_;
  bool crc_on_ = false;
  uint32_t crc_ = 0;
};

void write_body(Writer& w, const ModelFile& f) {
  auto write_map = [&](const char(&t)[5], const std::map<std::string, std::string>& m) {
    w.u32(tag(t));
    w.u64(map_payload(m));
    w.u64(m.size());
    for (const auto& [k, v] : m) {
      w.str(k);
      w.str(v);
    }
  };
  write_map("CONF", f.config);
  write_map("BLOB", f.blobs);
  w.u32(tag("TENS"));
  w.u64(tensors_payload(f.tensors));
  w.u64(f.tensors.size());
  for (const auto& [name, t] : f.tensors) {
    w.str(name);
    w.u32(static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.shape()) w.u64(static_cast<uint64_t>(d));
    w.put(t.data(), sizeof(float) * static_cast<size_t>(t.numel()));
  }
}

void validate_for_save(const std::string& path, const ModelFile& f) {
  std::set<std::string> seen;
  for (const auto& [name, t] : f.tensors) {
    if (!seen.insert(name).second) throw Error(cat(path, ": duplicate tensor name '", name, "'"));
    if (t.empty() && t.numel() > 0) throw Error(cat(path, ": tensor '", name, "' has no data"));
    if (t.rank() > static_cast<int>(kMaxRank))
      throw Error(cat(path, ": tensor '", name, "' has rank ", t.rank(), " (at most ", kMaxRank, ")"));
  }
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// ---------------------------------------------------------------- reading

// A read-only mapping of a whole file.
class Mapping {
 public:
  explicit Mapping(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw InputError(cat(path, ": cannot open model file: ", errno_str()));
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      std::string e = errno_str();
      ::close(fd_);
      throw InputError(cat(path, ": cannot stat model file: ", e));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw InputError(cat(path, ": not a regular file"));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) {
        std::string e = errno_str();
        ::close(fd_);
        throw InputError(cat(path, ": cannot map model file: ", e));
      }
      data_ = static_cast<const char*>(p);
    }
  }
  ~Mapping() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    ::close(fd_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const char* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  const char* data_ = nullptr;
  uint64_t size_ = 0;
};

// Bounds-checked reads from [p, end).
class Reader {
 public:
  Reader(const std::string& path, const char* p, uint64_t n) : path_(path), p_(p), left_(n) {}

  uint64_t left() const { return left_; }
  [[noreturn]] void corrupt(const std::string& what) const {
    throw InputError(cat(path_, ": corrupt model file (", what, ")"));
  }
  const char* take(uint64_t n, const char* what) {
    if (n > left_) corrupt(cat(what, ": ", n, " bytes needed, ", left_, " left"));
    const char* q = p_;
    p_ += n;
    left_ -= n;
    return q;
  }
  uint32_t u32(const char* what) {
    uint32_t x;
    std::memcpy(&x, take(4, what), 4);
    return x;
  }
  uint64_t u64(const char* what) {
    uint64_t x;
    std::memcpy(&x, take(8, what), 8);
    return x;
  }
  std::string str(const char* what) {
    uint64_t n = u64(what);
    const char* s = take(n, what);
    return std::string(s, n);
  }
  // A count of entries, each at least `min_entry` bytes: checked before reserving.
  uint64_t count(uint64_t min_entry, const char* what) {
    uint64_t n = u64(what);
    if (n > left_ / min_entry) corrupt(cat(what, " count ", n, " exceeds the section"));
    return n;
  }

 private:
  const std::string& path_;
  const char* p_;
  uint64_t left_;
};

void read_map(Reader& r, std::map<std::string, std::string>& m, const char* what) {
  uint64_t n = r.count(16, what);
  for (uint64_t i = 0; i < n; ++i) {
    std::string k = r.str(what);
    std::string v = r.str(what);
    if (!m.emplace(std::move(k), std::move(v)).second) r.corrupt(cat("duplicate ", what, " entry"));
  }
}

void read_tensors(Reader& r, std::vector<std::pair<std::string, Tensor>>& ts) {
  uint64_t n = r.count(8 + 4, "tensor");
  ts.reserve(n);
  std::set<std::string> seen;
  for (uint64_t i = 0; i < n; ++i) {
    std::string name = r.str("tensor name");
    if (!seen.insert(name).second) r.corrupt(cat("duplicate tensor '", name, "'"));
    uint32_t rank = r.u32("tensor rank");
    if (rank > kMaxRank) r.corrupt(cat("tensor '", name, "' has rank ", rank));
    Shape shape(rank);
    // The product of the nonzero dimensions is kept within the data bytes left (or 2^20,
    // so an empty tensor like [0, 3] may end the file): it can neither overflow nor lead
    // to an absurd allocation.
    const uint64_t bound = std::max<uint64_t>(r.left() / 4, uint64_t(1) << 20);
    uint64_t nonzero = 1;
    bool has_zero = false;
    for (uint32_t j = 0; j < rank; ++j) {
      uint64_t d = r.u64("tensor shape");
      if (d == 0) {
        has_zero = true;
      } else {
        if (d > bound / nonzero) r.corrupt(cat("tensor '", name, "' has an impossible dimension ", d));
        nonzero *= d;
      }
      shape[j] = static_cast<int64_t>(d);
    }
    const uint64_t elems = has_zero ? 0 : nonzero;
    if (elems > r.left() / 4) r.corrupt(cat("tensor '", name, "' of shape ", shape_str(shape), " exceeds the file"));
    const char* data = r.take(elems * 4, "tensor data");
    Tensor t(shape);
    if (elems) std::memcpy(t.data(), data, elems * 4);
    ts.emplace_back(std::move(name), std::move(t));
  }
}

}  // namespace

const Tensor* ModelFile::find_tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

void save_model_file(const std::string& path, const ModelFile& file) {
  validate_for_save(path, file);
  const std::string tmp = cat(path, ".tmp.", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(cat(path, ": cannot create ", tmp, ": ", errno_str()));
  try {
    const uint64_t body =
        3 * (4 + 8) + map_payload(file.config) + map_payload(file.blobs) + tensors_payload(file.tensors);
    Writer w(fd, tmp);
    w.put(kMagic, 8);
    w.u32(kModelFileVersion);
    w.u32(0);
    w.u64(body);
    w.start_crc();
    write_body(w, file);
    uint32_t crc = w.crc();
    w.put(&crc, 4);
    w.flush();
    if (::fsync(fd) != 0) throw InputError(cat(tmp, ": fsync failed: ", errno_str()));
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) throw InputError(cat(tmp, ": close failed: ", errno_str()));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw InputError(cat(path, ": cannot rename ", tmp, " to it: ", errno_str()));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable; the file is already in place, so a failure here is
  // not worth reporting.
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

ModelFile load_model_file(const std::string& path) {
  Mapping map(path);
  return model_file_from_bytes(map.data(), map.size(), path);
}

ModelFile model_file_from_bytes(const char* d, uint64_t size, const std::string& path) {
  if (size == 0) throw InputError(cat(path, ": file is empty (not an nmt model file)"));
  if (size < sizeof(kMagic) || std::memcmp(d, kMagic, sizeof(kMagic)) != 0)
    throw InputError(cat(path, ": not an nmt model file (bad magic)"));
  if (size < kHeaderSize + kTrailerSize)
    throw InputError(cat(path, ": file is truncated (", size, " bytes, shorter than the header)"));
  uint32_t version;
  uint64_t body;
  std::memcpy(&version, d + 8, 4);
  std::memcpy(&body, d + 16, 8);
  if (version > kModelFileVersion)
    throw InputError(cat(path, ": format version ", version, " is newer than this nmt (", kModelFileVersion, ")"));
  if (version == 0) throw InputError(cat(path, ": unsupported format version 0"));
  const uint64_t have = size - kHeaderSize - kTrailerSize;
  if (body > have)
    throw InputError(
        cat(path, ": file is truncated (", size, " bytes, expected ", body + kHeaderSize + kTrailerSize, ")"));
  if (body < have)
    throw InputError(cat(path, ": file has ", size, " bytes, expected ", body + kHeaderSize + kTrailerSize,
                         " (corrupt or not an nmt model file)"));
  uint32_t stored;
  std::memcpy(&stored, d + kHeaderSize + body, 4);
  uint32_t crc = crc_update(static_cast<uint32_t>(crc32(0, Z_NULL, 0)), d + kHeaderSize, body);
  if (crc != stored) throw InputError(cat(path, ": checksum mismatch (file is corrupt or truncated)"));

  ModelFile f;
  Reader r(path, d + kHeaderSize, body);
  std::set<uint32_t> seen;
  while (r.left() > 0) {
    uint32_t t = r.u32("section tag");
    uint64_t len = r.u64("section size");
    Reader s(path, r.take(len, "section"), len);
    if ((t == tag("CONF") || t == tag("BLOB") || t == tag("TENS")) && !seen.insert(t).second)
      r.corrupt("duplicate section");
    if (t == tag("CONF"))
      read_map(s, f.config, "config");
    else if (t == tag("BLOB"))
      read_map(s, f.blobs, "blob");
    else if (t == tag("TENS"))
      read_tensors(s, f.tensors);
    else
      continue;  // a section a later nmt added: skip
    if (s.left() != 0) s.corrupt(cat(s.left(), " unread bytes at the end of a section"));
  }
  return f;
}

void put_params(ModelFile& file, const ParamStore& params, const std::string& prefix) {
  if (!params.allocated()) throw Error("put_params: the parameter store is not allocated");
  for (const std::string& name : params.names()) {
    std::string key = prefix + name;
    if (file.find_tensor(key)) throw Error(cat("put_params: the model file already has a tensor '", key, "'"));
    file.tensors.emplace_back(key, params.get(name)->value);
  }
}

void get_params(const ModelFile& file, ParamStore& params, const std::string& prefix) {
  if (!params.allocated()) throw Error("get_params: the parameter store is not allocated");
  // Index once: a model has hundreds of tensors.
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [n, t] : file.tensors) by_name.emplace(n, &t);
  for (const std::string& name : params.names()) {
    auto it = by_name.find(prefix + name);
    if (it == by_name.end()) throw InputError(cat("the model file has no parameter '", prefix + name, "'"));
    const Shape& want = params.shape(name);
    if (it->second->shape() != want)
      throw InputError(cat("parameter '", prefix + name, "' has shape ", shape_str(it->second->shape()),
                           " in the model file, the model expects ", shape_str(want)));
    params.set_value(name, *it->second);
  }
}

}  // namespace nmt
