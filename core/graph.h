// Reverse-mode differentiation: a tape of backward closures.
//
// A Var is a node holding a value and (when it needs one) a gradient. Each op
// (core/ops/*) is written as a named forward/backward kernel pair working on Tensors,
// plus a thin function on Vars that runs the forward and, when gradients are on and an
// input needs one, records a closure on the tape that runs the backward kernel.
// Tape::backward replays the closures in reverse. Backward kernels *accumulate* (+=)
// into input gradients, so a Var used twice gets the sum.
//
// Parameters are Vars whose value and gradient are views into the parameter arena
// (core/params.h); their gradients are never reallocated here.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace nmt {

struct Node {
  Tensor value;
  Tensor grad;  // empty until the first backward closure writes to it
  bool requires_grad = false;

  // The gradient buffer, allocated and zeroed on first use.
  Tensor& grad_buffer();
};
using Var = std::shared_ptr<Node>;

// A leaf holding `value`, with or without a gradient.
Var leaf(Tensor value, bool requires_grad = false);
// A leaf whose gradient is the given (pre-allocated, externally zeroed) buffer.
Var param_leaf(Tensor value, Tensor grad);

class Tape {
 public:
  static Tape& current();  // one per thread

  // True when ops should record: gradients enabled and some input needs one.
  bool recording(std::initializer_list<const Var*> inputs) const;
  bool enabled() const { return enabled_; }
  void set_enabled(bool on) { enabled_ = on; }

  // Records a backward closure. The closure captures the Vars it needs.
  void push(std::function<void()> backward) { ops_.push_back(std::move(backward)); }

  // Seeds d(out) with ones (a scalar loss) or with `seed`, replays the tape in reverse,
  // then clears it.
  void backward(const Var& out);
  void backward(const Var& out, const Tensor& seed);

  // Drops every recorded closure (and with them the intermediate Vars).
  void clear() { ops_.clear(); }
  size_t size() const { return ops_.size(); }

 private:
  bool enabled_ = true;
  std::vector<std::function<void()>> ops_;
};

// Makes a result Var; it needs a gradient when the tape is recording for these inputs.
Var result(Tensor value, std::initializer_list<const Var*> inputs);

// Turns gradient recording off in a scope (translation, validation).
class NoGradScope {
 public:
  NoGradScope() : prev_(Tape::current().enabled()) { Tape::current().set_enabled(false); }
  ~NoGradScope() { Tape::current().set_enabled(prev_); }
  NoGradScope(const NoGradScope&) = delete;
  NoGradScope& operator=(const NoGradScope&) = delete;

 private:
  bool prev_;
};

}  // namespace nmt
