// Exponential smoothing of the parameters (Marian's --exponential-smoothing): a running
// average of the parameter arena, updated after every optimizer step, that validation and
// the saved model use while training goes on with the raw parameters. It usually
// translates better than the last raw parameters at no training cost (one loop over the
// arena per update).
//
//   after update number b + 1 (b updates before it):
//     decay = max(factor, 1 - (b + 1) / (b + 10))
//     avg   = (1 - decay) * avg + decay * params
//
// The second term lets the average follow the parameters closely early in training (decay
// 0.9 at the first update) and widens the window as training goes on (about the last
// (b + 10) / 9 updates) until `factor` takes over. The average starts as a copy of the
// parameters. A checkpoint saves it (average()) so a resumed run continues it exactly.
#pragma once

#include <cstdint>

#include "core/params.h"
#include "core/tensor.h"

namespace nmt {

class ExponentialSmoothing {
 public:
  // The store must be allocated and outlive this object. Throws nmt::Error when factor is
  // not in (0, 1].
  ExponentialSmoothing(ParamStore& params, float factor);

  // The decay applied at the update that follows `updates_before` updates.
  static float decay(float factor, int64_t updates_before);

  // Folds the store's current values into the average; call once after each optimizer
  // step, with the number of updates made before that step.
  void update(int64_t updates_before);

  // Exchanges the store's values and the average, element by element (exact: swapping
  // twice restores both). See SmoothedParams for the scoped form.
  void swap();

  // The average as a flat tensor of params.size() floats (a view: checkpoint I/O).
  Tensor average();
  float factor() const { return factor_; }

 private:
  ParamStore& params_;
  float factor_;
  FloatBuffer avg_;
};

// While alive, the store holds the smoothed parameters (nothing happens for nullptr).
class SmoothedParams {
 public:
  explicit SmoothedParams(ExponentialSmoothing* s) : s_(s) {
    if (s_) s_->swap();
  }
  ~SmoothedParams() {
    if (s_) s_->swap();
  }
  SmoothedParams(const SmoothedParams&) = delete;
  SmoothedParams& operator=(const SmoothedParams&) = delete;

 private:
  ExponentialSmoothing* s_;
};

}  // namespace nmt
