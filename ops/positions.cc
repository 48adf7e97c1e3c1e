#include "ops/positions.h"

#include <cmath>

#include "core/error.h"

namespace nmt {

Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t first) {
  if (length < 0 || first < 0 || dim < 1)
    throw Error(cat("sinusoidal_positions: bad length ", length, ", dim ", dim, " or first position ", first));
  Tensor p({length, dim});
  for (int64_t j = 0; j < dim; j += 2) {
    const double inv_freq = std::pow(10000.0, -static_cast<double>(j) / static_cast<double>(dim));
    for (int64_t i = 0; i < length; ++i) {
      const double angle = static_cast<double>(first + i) * inv_freq;
      p[i * dim + j] = static_cast<float>(std::sin(angle));
      if (j + 1 < dim) p[i * dim + j + 1] = static_cast<float>(std::cos(angle));
    }
  }
  return p;
}

}  // namespace nmt
