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

// The number types a matmul can run in on this CPU: inputs in `Precision`, output fp32.
//   f32:  what nmt runs;  bf16: bfloat16 inputs (AVX-512 BF16);  s8: u8 activations times
//   s8 weights with int32 accumulation (AVX-512 VNNI), the basis of int8 inference.
enum class Precision { f32, bf16, s8 };
const char* precision_name(Precision p);

// Whether oneDNN has a matmul with inputs in `precision` on this CPU (its effective ISA):
// bf16 needs AVX-512; f32 and s8 run everywhere.
bool matmul_available(Precision precision);

// GFLOP/s of one oneDNN matmul [m, k] x [k, n] -> fp32 [m, n] in `precision`, weights in the
// layout the primitive prefers (reordered once, as a model's weights would be), activations
// plain. With convert_inputs, each repetition also converts the fp32 activations to the
// input type, as a model running in that precision must. Best of a few repetitions.
// Throws Error naming the precision and the ISA where !matmul_available(precision).
double measure_matmul_gflops(Precision precision, int64_t m, int64_t n, int64_t k, bool convert_inputs);

}  // namespace nmt
