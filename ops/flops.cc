#include "ops/flops.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>

#include "core/context.h"
#include "core/error.h"
#include "core/tensor.h"
#include "ops/bf16.h"
#include "ops/matmul.h"

namespace nmt {
namespace {
// Translation workers count from several threads at once (translate/translator.h).
std::atomic<uint64_t> g_flops{0};
}  // namespace

void count_matmul(int64_t m, int64_t n, int64_t k) {
  g_flops.fetch_add(2 * static_cast<uint64_t>(m) * static_cast<uint64_t>(n) * static_cast<uint64_t>(k),
                    std::memory_order_relaxed);
}

double matmul_flops_counted() { return static_cast<double>(g_flops.load(std::memory_order_relaxed)); }

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

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::f32:
      return "f32";
    case Precision::bf16:
      return "bf16";
    case Precision::s8:
      return "s8";
  }
  return "?";
}

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

dt source_type(Precision p) { return p == Precision::f32 ? dt::f32 : p == Precision::bf16 ? dt::bf16 : dt::u8; }
dt weights_type(Precision p) { return p == Precision::s8 ? dt::s8 : source_type(p); }

// The matmul [m, k] x [k, n] -> f32 in `precision`, weights in the layout it prefers; throws
// dnnl::error where oneDNN has none.
dnnl::matmul::primitive_desc matmul_pd(Precision precision, int64_t m, int64_t n, int64_t k) {
  const memory::desc src_md({m, k}, source_type(precision), tag::ab), dst_md({m, n}, dt::f32, tag::ab);
  return dnnl::matmul::primitive_desc(
      dnnl::matmul::desc(src_md, memory::desc({k, n}, weights_type(precision), tag::any), dst_md),
      Context::get().engine());
}

}  // namespace

bool matmul_available(Precision precision) {
  try {
    matmul_pd(precision, 16, 16, 16);
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

double measure_matmul_gflops(Precision precision, int64_t m, int64_t n, int64_t k, bool convert_inputs) {
  if (m < 1 || n < 1 || k < 1) throw Error(cat("bench matmul: sizes must be positive, got ", m, "x", n, "x", k));
  if (!matmul_available(precision))
    throw Error(cat("bench matmul: oneDNN has no ", precision_name(precision), " matmul on this CPU (",
                    onednn_isa_name(), ")"));
  auto& ctx = Context::get();
  auto& eng = ctx.engine();
  auto& strm = ctx.stream();
  // Built here, not cached: a measurement, not a kernel path of the model.
  const dnnl::matmul::primitive_desc pd = matmul_pd(precision, m, n, k);
  const memory::desc src_md = pd.src_desc(), dst_md = pd.dst_desc();
  const dnnl::matmul prim(pd);
  memory a32({{m, k}, dt::f32, tag::ab}, eng), b32({{k, n}, dt::f32, tag::ab}, eng);
  // Small integers, exact in every type.
  auto* pa = static_cast<float*>(a32.get_data_handle());
  auto* pb = static_cast<float*>(b32.get_data_handle());
  for (int64_t i = 0; i < m * k; ++i) pa[i] = static_cast<float>(i % 7);
  for (int64_t i = 0; i < k * n; ++i) pb[i] = static_cast<float>(i % 5) - 2.f;
  memory a(src_md, eng), b(pd.weights_desc(), eng), c(dst_md, eng);
  dnnl::reorder to_a(a32, a);
  dnnl::reorder(b32, b).execute(strm, b32, b);
  double best = 0;
  for (int rep = 0; rep < 12; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    if (convert_inputs || rep == 0) to_a.execute(strm, a32, a);
    prim.execute(strm, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    strm.wait();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep >= 2) best = std::max(best, 2.0 * static_cast<double>(m) * n * k / s / 1e9);
  }
  // c[0][0] = sum over j of (j % 7) * ((j * n) % 5 - 2): a wrong product is not a measurement.
  double expect = 0;
  for (int64_t j = 0; j < k; ++j) expect += static_cast<double>(j % 7) * static_cast<double>((j * n) % 5 - 2);
  const float got = static_cast<float*>(c.get_data_handle())[0];
  if (std::abs(got - expect) > 1e-3 * std::max(1.0, std::abs(expect)))
    throw Error(
        cat("bench matmul: ", precision_name(precision), " product is wrong: c[0][0] = ", got, ", expected ", expect));
  return best;
}

}  // namespace nmt
