// Central finite-difference gradient checks for ops on Vars.
//
// f maps input Vars to an output Var of any shape. The check seeds the output gradient
// with a fixed random tensor R (so every output element matters), runs the tape, and
// compares d(sum(R * f(x)))/dx against (L(x + eps) - L(x - eps)) / 2 eps computed in
// double from float forward passes.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "core/graph.h"

namespace nmt::testing {

inline Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng);
  return t;
}

struct GradCheckOptions {
  double eps = 1e-2;   // perturbation
  double atol = 1e-3;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-2;
  std::vector<bool> check;  // which inputs to check (default: all)
};

inline void expect_gradients_match(const std::function<Var(const std::vector<Var>&)>& f,
                                   const std::vector<Tensor>& inputs, GradCheckOptions opt = {}) {
  Tape& tape = Tape::current();
  tape.clear();
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.push_back(leaf(t.clone(), true));
  Var out = f(vars);
  ASSERT_TRUE(out->requires_grad) << "output does not require grad: nothing recorded";
  Tensor seed = random_tensor(out->value.shape(), 12345);
  tape.backward(out, seed);

  auto loss = [&](const std::vector<Var>& vs) {
    NoGradScope no_grad;
    Var o = f(vs);
    double s = 0;
    for (int64_t i = 0; i < o->value.numel(); ++i) s += double(o->value[i]) * seed[i];
    return s;
  };

  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!opt.check.empty() && !opt.check[k]) continue;
    std::vector<Var> probe;
    for (const Tensor& t : inputs) probe.push_back(leaf(t.clone(), false));
    Tensor& x = probe[k]->value;
    Tensor analytic = vars[k]->grad.empty() ? Tensor::zeros(x.shape()) : vars[k]->grad;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float orig = x[i];
      x[i] = orig + static_cast<float>(opt.eps);
      double lp = loss(probe);
      x[i] = orig - static_cast<float>(opt.eps);
      double lm = loss(probe);
      x[i] = orig;
      double numeric = (lp - lm) / (2 * opt.eps);
      EXPECT_NEAR(analytic[i], numeric, opt.atol + opt.rtol * std::fabs(numeric)) << "input " << k << " element " << i;
    }
  }
}

}  // namespace nmt::testing
