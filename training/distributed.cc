#include "training/distributed.h"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <limits>

#include "core/error.h"

namespace nmt {
namespace {

// MPI counts are ints: larger buffers go in chunks.
constexpr int64_t kChunk = int64_t(1) << 30;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(cat(what, " failed: ", std::string(text, len)));
}

template <typename T>
void allreduce_sum(T* data, int64_t n, MPI_Datatype type) {
  for (int64_t at = 0; at < n; at += kChunk)
    check(MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(kChunk, n - at)), type, MPI_SUM,
                        MPI_COMM_WORLD),
          "MPI_Allreduce");
}

template <typename T>
void bcast(T* data, int64_t n, MPI_Datatype type) {
  for (int64_t at = 0; at < n; at += kChunk)
    check(MPI_Bcast(data + at, static_cast<int>(std::min(kChunk, n - at)), type, 0, MPI_COMM_WORLD), "MPI_Bcast");
}

// name -> value as length-prefixed strings, and back.
std::string encode(const std::map<std::string, std::string>& items) {
  std::string out;
  for (const auto& [k, v] : items) out += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v;
  return out;
}

std::map<std::string, std::string> decode(const std::string& s) {
  std::map<std::string, std::string> items;
  size_t at = 0;
  auto field = [&] {
    const size_t colon = s.find(':', at);
    const size_t n = std::stoul(s.substr(at, colon - at));
    at = colon + 1 + n;
    return s.substr(colon + 1, n);
  };
  while (at < s.size()) {
    std::string k = field();
    items[k] = field();
  }
  return items;
}

}  // namespace

bool started_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

Distributed::Distributed() {
  if (!started_by_mpirun()) return;
  int provided = 0;
  // Only the main thread calls MPI; oneDNN's threads never do.
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Distributed::~Distributed() {
  // Unwinding an error: no MPI_Finalize (it would wait for ranks that may be blocked in a
  // collective); the non-zero exit without it makes mpirun end the job.
  if (initialised_ && finalize_ && std::uncaught_exceptions() == 0) MPI_Finalize();
}

void Distributed::sum(float* data, int64_t n) const {
  if (parallel()) allreduce_sum(data, n, MPI_FLOAT);
}

void Distributed::sum(double* data, int64_t n) const {
  if (parallel()) allreduce_sum(data, n, MPI_DOUBLE);
}

void Distributed::broadcast(float* data, int64_t n) const {
  if (parallel()) bcast(data, n, MPI_FLOAT);
}

void Distributed::broadcast(int64_t* data, int64_t n) const {
  if (parallel()) bcast(data, n, MPI_INT64_T);
}

void Distributed::broadcast(double* data, int64_t n) const {
  if (parallel()) bcast(data, n, MPI_DOUBLE);
}

void Distributed::broadcast(std::string& bytes) const {
  if (!parallel()) return;
  int64_t n = static_cast<int64_t>(bytes.size());
  broadcast(&n, 1);
  bytes.resize(static_cast<size_t>(n));
  bcast(bytes.data(), n, MPI_CHAR);
}

std::vector<std::string> Distributed::gather(const std::string& bytes) const {
  if (!parallel()) return {bytes};
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max() / size_))
    throw Error(cat("Distributed::gather: ", bytes.size(), " bytes a rank is too many"));
  int n = static_cast<int>(bytes.size());
  std::vector<int> sizes(size_), offsets(size_);
  check(MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[r] = total;
    total += sizes[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  check(MPI_Allgatherv(bytes.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], sizes[r]));
  return out;
}

void Distributed::barrier() const {
  if (parallel()) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void Distributed::check_agreement(const std::map<std::string, std::string>& items) const {
  if (!parallel()) return;
  const std::vector<std::string> all = gather(encode(items));
  const std::map<std::string, std::string> first = decode(all[0]);
  for (int r = 1; r < size_; ++r) {
    const std::map<std::string, std::string> other = decode(all[r]);
    std::map<std::string, std::string> keys = first;
    keys.insert(other.begin(), other.end());
    for (const auto& [key, unused] : keys) {
      auto a = first.find(key), b = other.find(key);
      const std::string va = a == first.end() ? "(not set)" : "'" + a->second + "'";
      const std::string vb = b == other.end() ? "(not set)" : "'" + b->second + "'";
      if (va != vb)
        throw InputError(cat("the ranks of this job disagree: ", key, " is ", vb, " on rank ", r, " but ", va,
                             " on rank 0; every rank must run the same command on the same data"));
    }
  }
}

std::vector<int32_t> split_by_tokens(const std::vector<int32_t>& batch, const std::vector<int64_t>& tokens, int rank,
                                     int ranks) {
  if (tokens.size() != batch.size())
    throw Error(cat("split_by_tokens: ", batch.size(), " sentences but ", tokens.size(), " token counts"));
  if (ranks == 1) return batch;
  int64_t total = 0;
  for (int64_t t : tokens) total += t;
  std::vector<int32_t> share;
  int64_t before = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    // The sentence's middle, 2 * before + tokens, against the parts' bounds, 2 * total * r / ranks.
    const int64_t middle = 2 * before + tokens[i];
    const int owner = total == 0 ? static_cast<int>(i * ranks / batch.size())
                                 : static_cast<int>(std::min<int64_t>(middle * ranks / (2 * total), ranks - 1));
    if (owner == rank) share.push_back(batch[i]);
    before += tokens[i];
  }
  return share;
}

uint64_t checksum(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = seed;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace nmt
