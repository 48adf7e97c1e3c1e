// Shared helpers of the transformer tests: recording the parameters a module declares, random
// values for them, feeding gradient-checked leaves back to it as its parameters, and key
// padding masks.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "gradcheck.h"
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
  // Random values for gradient checks: layer-norm gains (Init::Ones) around 1, everything
  // else in [-0.5, 0.5], except the FFN's inner biases (".b1"): +4 and -4 alternately, so
  // that half the ReLUs are on and half off, with every pre-activation far from the kink,
  // where central differences straddling it would be meaningless (W1 x stays well below 4
  // in magnitude in the tests' tiny layers).
  std::vector<Tensor> values(uint64_t seed) const {
    std::vector<Tensor> out;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const bool gain = inits[i].kind == Init::Ones;
      out.push_back(random_tensor(shapes[i], seed++, gain ? 0.5f : -0.5f, gain ? 1.5f : 0.5f));
      if (names[i].size() > 3 && names[i].compare(names[i].size() - 3, 3, ".b1") == 0)
        for (int64_t j = 0; j < out.back().numel(); ++j) out.back()[j] = j % 2 ? -4.f : 4.f;
    }
    return out;
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
