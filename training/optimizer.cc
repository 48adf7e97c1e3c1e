#include "training/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nmt {
namespace {

constexpr int64_t kParallelMin = 32768;

void check_allocated(const ParamStore& params, const char* what) {
  if (!params.allocated()) throw Error(cat(what, ": the parameter store is not allocated"));
}

}  // namespace

Adam::Adam(ParamStore& params, AdamConfig config) : params_(params), config_(config) {
  check_allocated(params, "Adam");
  if (!(config.beta1 >= 0.f && config.beta1 < 1.f) || !(config.beta2 >= 0.f && config.beta2 < 1.f) ||
      !(config.eps >= 0.f))
    throw Error(cat("Adam: invalid config beta1=", config.beta1, " beta2=", config.beta2, " eps=", config.eps));
  m_ = aligned_floats(params.size());
  v_ = aligned_floats(params.size());
}

void Adam::step(float lr, float grad_scale) {
  ++steps_;
  const double t = static_cast<double>(steps_);
  const float b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
  // p -= lr * m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps), with both corrections folded into
  // per-step scalars: the update is step_size * m / (sqrt(v) * inv_sqrt_c2 + eps).
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(double(b1), t)));
  const float inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(double(b2), t)));
  float* p = params_.values();
  const float* g = params_.grads();
  float* m = m_.get();
  float* v = v_.get();
  const int64_t n = params_.size();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * grad_scale;
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_c2 + eps);
  }
}

Tensor Adam::m() { return Tensor::view(m_.get(), {params_.size()}); }
Tensor Adam::v() { return Tensor::view(v_.get(), {params_.size()}); }

void Adam::set_steps(int64_t steps) {
  if (steps < 0) throw Error(cat("Adam::set_steps(", steps, "): must be >= 0"));
  steps_ = steps;
}

float grad_norm(const ParamStore& params) {
  check_allocated(params, "grad_norm");
  const float* g = params.grads();
  const int64_t n = params.size();
  double sum = 0;
#pragma omp parallel for simd reduction(+ : sum) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) sum += double(g[i]) * double(g[i]);
  return static_cast<float>(std::sqrt(sum));
}

float clip_scale(float norm, float max_norm) {
  if (max_norm <= 0.f || !(norm > max_norm)) return 1.f;
  return static_cast<float>(double(max_norm) / double(norm));
}

float lr_at(int64_t step, float base_lr, int64_t warmup, bool inv_sqrt_decay) {
  if (step < 1) throw Error(cat("lr_at: step ", step, " (steps are numbered from 1)"));
  if (warmup < 0) throw Error(cat("lr_at: negative warmup ", warmup));
  if (step <= warmup) return static_cast<float>(double(base_lr) * double(step) / double(warmup));
  if (!inv_sqrt_decay) return base_lr;
  const double ref = warmup > 0 ? double(warmup) : 1.0;
  return static_cast<float>(double(base_lr) * std::sqrt(ref / double(step)));
}

void put_adam_state(ModelFile& file, Adam& adam, const std::string& prefix) {
  for (const char* n : {"m", "v"})
    if (file.find_tensor(prefix + n))
      throw Error(cat("put_adam_state: the model file already has a tensor '", prefix + n, "'"));
  file.tensors.emplace_back(prefix + "m", adam.m());
  file.tensors.emplace_back(prefix + "v", adam.v());
  file.config[prefix + "steps"] = std::to_string(adam.steps());
}

void get_adam_state(const ModelFile& file, Adam& adam, const std::string& prefix) {
  auto it = file.config.find(prefix + "steps");
  if (it == file.config.end()) throw InputError(cat("the checkpoint has no optimizer entry '", prefix, "steps'"));
  int64_t steps = 0;
  size_t used = 0;
  try {
    steps = std::stoll(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != it->second.size() || steps < 0)
    throw InputError(cat("the checkpoint's '", prefix, "steps' is '", it->second, "', not a step count"));
  Tensor m = adam.m(), v = adam.v();
  for (auto [n, dst] : {std::pair<const char*, Tensor*>{"m", &m}, {"v", &v}}) {
    const Tensor* src = file.find_tensor(prefix + n);
    if (!src) throw InputError(cat("the checkpoint has no optimizer state '", prefix, n, "'"));
    if (src->shape() != dst->shape())
      throw InputError(cat("optimizer state '", prefix, n, "' has shape ", shape_str(src->shape()),
                           ", the model's parameters need ", shape_str(dst->shape())));
    dst->copy_from(*src);
  }
  adam.set_steps(steps);
}

}  // namespace nmt
