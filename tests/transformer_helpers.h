// Shared helpers of the transformer tests (tests/transformer_*_test.cc): recording the
// parameters a module declares and feeding gradient-checked leaves back to it as its
// parameters, and key padding masks.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "layers/transformer_blocks.h"

namespace nmt::testing {

// Records the parameters a module declares, in order (zero placeholders are returned to
// it), so that they can be fed back as gradient-checked leaves with from_vars.
struct ParamRecorder {
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  std::vector<Init> inits;
  ParamMaker recorder() {
    return [this](const std::string& name, const Shape& shape, Init init) {
      names.push_back(name);
      shapes.push_back(shape);
      inits.push_back(init);
      return leaf(Tensor::zeros(shape));
    };
  }
};

// Hands out vars[first], vars[first + 1], ... as the module's parameters, checking that
// each has the shape the module asks for.
inline ParamMaker from_vars(const std::vector<Var>& vars, size_t first) {
  auto next = std::make_shared<size_t>(first);
  return [&vars, next](const std::string&, const Shape& shape, Init) {
    const Var& v = vars.at((*next)++);
    EXPECT_EQ(v->value.shape(), shape);
    return v;
  };
}

// A [N, T] mask that keeps the first lengths[n] positions of row n (1) and masks the rest (0).
inline Tensor key_mask(const std::vector<int>& lengths, int64_t T) {
  Tensor m = Tensor::zeros({static_cast<int64_t>(lengths.size()), T});
  for (size_t n = 0; n < lengths.size(); ++n)
    for (int t = 0; t < lengths[n]; ++t) m[n * T + t] = 1.f;
  return m;
}

}  // namespace nmt::testing
