// In-place elementwise exp as a oneDNN eltwise primitive (no gradient: used inside
// fused ops' backward passes).
#pragma once

#include "core/tensor.h"

namespace nmt {

void exp_inplace(Tensor& x);

}  // namespace nmt
