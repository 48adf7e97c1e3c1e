#include "training/bench_allreduce.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/format.h"
#include "core/params.h"
#include "io/json.h"
#include "training/distributed.h"

namespace nmt {
namespace {

double gb_per_s(double bytes, double seconds) { return bytes / seconds / 1e9; }
double bus_factor(int processes) { return 2.0 * (processes - 1) / processes; }

}  // namespace

void BenchAllreduceOptions::validate() const {
  if (floats.empty()) throw OptionError("floats must list at least one size, got none");
  for (int64_t n : floats)
    if (n < 1) throw OptionError(cat("floats must be sizes >= 1, got ", n));
  if (repeats < 1) throw OptionError(cat("repeats must be >= 1, got ", repeats));
}

BenchAllreduceReport bench_allreduce(const BenchAllreduceOptions& o) {
  o.validate();
  Distributed world;
  BenchAllreduceReport r;
  r.rank = world.rank();
  r.processes = world.size();
  for (int64_t n : o.floats) {
    FloatBuffer grads = aligned_floats(n);
    std::fill(grads.get(), grads.get() + n, 1e-3f * static_cast<float>(world.rank() + 1));
    world.sum(grads.get(), n);  // warm-up: connections and buffers set up
    std::vector<double> times;
    for (int i = 0; i < o.repeats; ++i) {
      world.barrier();
      const auto start = std::chrono::steady_clock::now();
      world.sum(grads.get(), n);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    r.rows.push_back({n, times[times.size() / 2]});
  }
  return r;
}

std::string bench_allreduce_text(const BenchAllreduceReport& r) {
  std::string out;
  if (r.processes == 1) out += "1 process: nothing to exchange (run it under mpirun -np N)\n";
  for (const AllreduceRow& row : r.rows) {
    const double bytes = 4.0 * static_cast<double>(row.floats);
    out += printf_string(
        "allreduce %lld floats (%.1f MB) over %d processes: %.2f ms, algorithm bandwidth %.2f GB/s, bus "
        "bandwidth %.2f GB/s\n",
        static_cast<long long>(row.floats), bytes / 1e6, r.processes, 1e3 * row.seconds, gb_per_s(bytes, row.seconds),
        gb_per_s(bytes, row.seconds) * bus_factor(r.processes));
  }
  return out;
}

std::string bench_allreduce_json(const BenchAllreduceReport& r) {
  JsonObject sizes;
  for (const AllreduceRow& row : r.rows) {
    const double bytes = 4.0 * static_cast<double>(row.floats);
    JsonObject j;
    j.set("bytes", bytes).set("seconds", row.seconds);
    j.set("algbw_gb_per_s", gb_per_s(bytes, row.seconds));
    j.set("busbw_gb_per_s", gb_per_s(bytes, row.seconds) * bus_factor(r.processes));
    sizes.set(std::to_string(row.floats), j);
  }
  JsonObject j;
  j.set("bench", "allreduce").set("processes", r.processes).set("sizes", sizes);
  return j.str() + "\n";
}

}  // namespace nmt
