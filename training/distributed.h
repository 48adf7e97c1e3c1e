// Synchronous data-parallel training over MPI (`mpirun -np N nmt train ...`): the processes
// of the job and the few collective operations the trainer needs. This is the only code
// that calls MPI.
//
// Started by mpirun, a Distributed joins the job (MPI_Init) and leaves it cleanly when
// destroyed (MPI_Finalize). Destroyed by an exception it does not finalize: the process
// then exits non-zero without MPI_Finalize, and mpirun takes that as the job's failure and
// ends every other rank (none waits forever in a collective). Without mpirun there is one
// process, rank 0 of 1, MPI is never initialised and every operation returns at once, so
// the one-process trainer runs as it did.
//
// Each update's mini-batch is split across the ranks by target tokens (split_by_tokens);
// every rank reads the whole corpus and builds the same batches, so the shares' union is
// exactly the one-process batch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nmt {

class Distributed {
 public:
  Distributed();
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  bool parallel() const { return size_ > 1; }

  // In-place sums over every rank (MPI_Allreduce); each rank gets the same result.
  void sum(float* data, int64_t n) const;
  void sum(double* data, int64_t n) const;
  // Rank 0's values (or bytes, resized on the others) to every rank.
  void broadcast(float* data, int64_t n) const;
  void broadcast(std::string& bytes) const;
  void broadcast(int64_t* data, int64_t n) const;
  void broadcast(double* data, int64_t n) const;
  // Every rank's bytes, in rank order, on every rank.
  std::vector<std::string> gather(const std::string& bytes) const;
  void barrier() const;
  // Leaves the job without MPI_Finalize when destroyed: for mpirun's teardown, in which
  // MPI_Finalize would wait for a mpirun that no longer answers (training/signals.h).
  void leave_without_finalize() { finalize_ = false; }

  // Refuses a job whose ranks disagree: each rank passes what it must share with the others
  // (name -> value: options, data sizes and checksums). On disagreement every rank throws
  // InputError naming the first item that differs, the rank and both values.
  void check_agreement(const std::map<std::string, std::string>& items) const;

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
  bool finalize_ = true;
};

// True when this process was started by mpirun (Open MPI, MPICH or a PMIx launcher).
bool started_by_mpirun();

// Rank `rank`'s share of a batch of sentences whose target sides weigh `tokens[i]`: a
// contiguous slice, each sentence going to the rank whose equal part of the total tokens
// holds the sentence's middle. The shares of ranks 0 .. ranks-1 are disjoint and their union,
// in rank order, is the batch; a batch of fewer sentences than ranks leaves some shares empty.
std::vector<int32_t> split_by_tokens(const std::vector<int32_t>& batch, const std::vector<int64_t>& tokens, int rank,
                                     int ranks);

// A 64-bit FNV-1a checksum of bytes, for comparing data across ranks.
uint64_t checksum(const void* data, size_t n, uint64_t seed = 14695981039346656037ull);

}  // namespace nmt
