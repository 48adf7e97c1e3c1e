// A count of the floating-point work done in matrix products: every matmul (and so every
// linear layer, forward and backward) and the gemms inside the RNN primitives. Benchmarks
// divide it by time to report the GFLOP/s training reaches, and compare that with the
// GFLOP/s of one large matmul on the same cores (measure_matmul_peak): the fraction of the
// machine's matmul peak that the model's own matrix products use. Element-wise work
// (softmax, layer norm, gate nonlinearities) is not counted.
#pragma once

#include <cstdint>

namespace nmt {

// Adds 2 * m * n * k (multiply + add) for one [m, k] x [k, n] product.
void count_matmul(int64_t m, int64_t n, int64_t k);
// FLOPs counted since the process started.
double matmul_flops_counted();

// GFLOP/s of a large fp32 oneDNN matmul ([m, k] x [k, n] with m = 2048, k = n = 1024) on
// the context's threads: the best of a few timed repetitions after a warm-up.
double measure_matmul_peak_gflops();

}  // namespace nmt
