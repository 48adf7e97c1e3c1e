#include "core/flops.h"

#include <algorithm>
#include <chrono>

#include "core/ops/matmul.h"
#include "core/tensor.h"

namespace nmt {
namespace {
double g_flops = 0;  // ops run on the caller's thread, one at a time
}  // namespace

void count_matmul(int64_t m, int64_t n, int64_t k) {
  g_flops += 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

double matmul_flops_counted() { return g_flops; }

double measure_matmul_peak_gflops() {
  constexpr int64_t M = 2048, K = 1024, N = 1024;
  Tensor a = Tensor::zeros({M, K}), b = Tensor::zeros({K, N}), c({M, N});
  for (int64_t i = 0; i < a.numel(); ++i) a[i] = static_cast<float>(i % 7) * 0.01f;
  for (int64_t i = 0; i < b.numel(); ++i) b[i] = static_cast<float>(i % 5) * 0.01f;
  const double saved = g_flops;
  double best = 0;
  for (int rep = 0; rep < 12; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    matmul_forward(a, b, c, false, false, 1.0f, false);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep >= 2) best = std::max(best, 2.0 * M * N * K / s / 1e9);
  }
  g_flops = saved;  // the measurement is not the model's work
  return best;
}

}  // namespace nmt
