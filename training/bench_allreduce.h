// `nmt bench allreduce`: the time of the in-place gradient allreduce of data-parallel training
// (training/distributed.h) for given arena sizes, under mpirun. Each size is summed `repeats`
// times after one untimed warm-up, the ranks lined up by a barrier before each; the median is
// reported with the algorithm bandwidth (bytes / time) and the bus bandwidth (a ring moves
// 2 (N-1)/N of the bytes through each process's link), as nccl-tests reports them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nmt {

struct BenchAllreduceOptions {
  // fp32 gradient arenas: the bottleneck, attention and transformer reference models and a
  // transformer-base.
  std::vector<int64_t> floats = {9540000, 5470000, 7580000, 60000000};
  int repeats = 10;

  // Throws OptionError naming the first option that breaks its rule.
  void validate() const;
};

struct AllreduceRow {
  int64_t floats = 0;
  double seconds = 0;  // median of the repeats
};

struct BenchAllreduceReport {
  int rank = 0, processes = 1;
  std::vector<AllreduceRow> rows;
};

BenchAllreduceReport bench_allreduce(const BenchAllreduceOptions& options);
std::string bench_allreduce_text(const BenchAllreduceReport& report);
// One JSON object: bench ("allreduce"), processes, sizes: {"FLOATS": {bytes, seconds, algbw_gb_per_s,
// busbw_gb_per_s}, ...}.
std::string bench_allreduce_json(const BenchAllreduceReport& report);

}  // namespace nmt
