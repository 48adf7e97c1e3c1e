#include "training/smoothing.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace nmt {
namespace {
constexpr int64_t kParallelMin = 32768;
}  // namespace

ExponentialSmoothing::ExponentialSmoothing(ParamStore& params, float factor) : params_(params), factor_(factor) {
  if (!params.allocated()) throw Error("ExponentialSmoothing: the parameter store is not allocated");
  if (!(factor > 0.f && factor <= 1.f))
    throw Error(cat("ExponentialSmoothing: the factor must be in (0, 1], got ", factor));
  avg_ = aligned_floats(params.size());
  std::memcpy(avg_.get(), params.values(), static_cast<size_t>(params.size()) * sizeof(float));
}

float ExponentialSmoothing::decay(float factor, int64_t updates_before) {
  if (updates_before < 0) throw Error(cat("ExponentialSmoothing::decay: updates_before = ", updates_before, " < 0"));
  const double b = static_cast<double>(updates_before);
  return std::max(factor, static_cast<float>(1.0 - (b + 1.0) / (b + 10.0)));
}

void ExponentialSmoothing::update(int64_t updates_before) {
  const float d = decay(factor_, updates_before);
  const float keep = 1.f - d;
  const float* p = params_.values();
  float* a = avg_.get();
  const int64_t n = params_.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) a[i] = keep * a[i] + d * p[i];
}

void ExponentialSmoothing::swap() {
  float* p = params_.values();
  float* a = avg_.get();
  const int64_t n = params_.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) std::swap(p[i], a[i]);
}

Tensor ExponentialSmoothing::average() { return Tensor::view(avg_.get(), {params_.size()}); }

}  // namespace nmt
