// Adam over the parameter arena (core/params.h), gradient-norm clipping and the
// learning-rate schedule. An update reads the arena twice: once for the norm (which also
// tells whether every gradient is finite) and once for Adam, which applies the clipping
// scale as it reads each gradient.
//
// Adam's moments live in two arena-sized buffers laid out like the parameters, exposed as
// flat tensors (m(), v()) with the step count, so a checkpoint saves and restores the
// optimizer exactly (put_adam_state / get_adam_state).
#pragma once

#include <cstdint>
#include <memory>

#include "core/params.h"
#include "core/tensor.h"
#include "io/model_file.h"

namespace nmt {

struct AdamConfig {
  float beta1 = 0.9f, beta2 = 0.98f, eps = 1e-9f;
};

// Bias-corrected Adam (Kingma & Ba, Algorithm 1):
//   t += 1; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
//   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
class Adam {
 public:
  // The store must be allocated and must outlive the optimizer.
  Adam(ParamStore& params, AdamConfig config = {});

  // One update with the gradients currently in the store, each multiplied by grad_scale
  // first (clip_scale; the gradients themselves are left as they are).
  void step(float lr, float grad_scale = 1.f);
  int64_t steps() const { return steps_; }
  const AdamConfig& config() const { return config_; }

  // State for checkpoints: flat views of shape {params.size()} and the step count.
  Tensor m();
  Tensor v();
  void set_steps(int64_t steps);  // throws nmt::Error when negative

 private:
  ParamStore& params_;
  AdamConfig config_;
  int64_t steps_ = 0;
  FloatBuffer m_, v_;
};

// Global L2 norm of all gradients, accumulated in double. Not finite when a gradient is NaN
// or +-Inf (or the norm is beyond float's range): the update must then be skipped.
float grad_norm(const ParamStore& params);
// The factor that clips gradients of global norm `norm` to max_norm: max_norm / norm when
// norm > max_norm > 0, else 1. For Adam::step.
float clip_scale(float norm, float max_norm);

// Learning rate for update number `step` (1-based: the first update is step 1, i.e. pass
// Adam::steps() + 1). Linear warmup base_lr * step / warmup over the first `warmup`
// updates, then base_lr, or with inv_sqrt_decay base_lr * sqrt(warmup / step)
// (warmup 0: base_lr / sqrt(step)). Throws nmt::Error when step < 1 or warmup < 0.
float lr_at(int64_t step, float base_lr, int64_t warmup, bool inv_sqrt_decay);

// The optimizer's state in a model file (a checkpoint): tensors prefix+"m" and prefix+"v"
// (views, as put_params) and config entry prefix+"steps". get_adam_state checks sizes
// (InputError on mismatch).
void put_adam_state(ModelFile& file, Adam& adam, const std::string& prefix = "adam.");
void get_adam_state(const ModelFile& file, Adam& adam, const std::string& prefix = "adam.");

}  // namespace nmt
