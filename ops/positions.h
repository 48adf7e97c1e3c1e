// Sinusoidal position encodings of the Transformer (Vaswani et al. 2017, section 3.5):
//   p(i, 2k)     = sin(i / 10000^(2k / d))
//   p(i, 2k + 1) = cos(i / 10000^(2k / d))
// A constant table, no gradient (learned positions are a parameter instead). The same
// table as the PyTorch peer's sinusoids(); computed in double, rounded to float.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace nmt {

// Rows for positions first .. first + length - 1: [length, dim]. dim may be odd (the
// last column is then a sine). Throws nmt::Error on a negative length or first, or dim < 1.
Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t first = 0);

}  // namespace nmt
