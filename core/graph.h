// Reverse-mode differentiation: a tape of backward closures.
//
// A Var is a node holding a value and (when it needs one) a gradient. Each op
// (ops/*) is written as a named forward/backward kernel pair working on Tensors,
// plus a thin function on Vars that runs the forward and, when gradients are on and an
// input needs one, records a closure on the tape that runs the backward kernel.
// Tape::backward replays the closures in reverse. Backward kernels *accumulate* (+=)
// into input gradients, so a Var used twice gets the sum. The first write to a gradient
// may instead assign into an uninitialised buffer (Node::grad_out), or adopt the output's
// gradient outright (Node::take_grad: reshape, add, dropout), which spares zeroing and
// copying buffers: by the time an op's closure runs, every consumer of its output has
// added in its share, so the output's gradient is final and read by nobody after it.
//
// Parameters are Vars whose value and gradient are views into the parameter arena
// (core/params.h); their gradients are never reallocated here.
//
// Memory: closures hold their Nodes through NodeRef (Var::node()), which does not count as
// a Var handle. When the last Var handle of an op's result goes (the model code is done
// with it), its value's storage is dropped (the shape stays) even though closures still
// hold the Node for its gradient. A closure that needs a value in its backward therefore
// captures that Tensor itself (a shallow copy), never reads it through a NodeRef. So the
// forward keeps alive only what some backward saved, as in PyTorch.
#pragma once

#include <atomic>
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

  // For a backward kernel that writes every element of this gradient: the buffer, and
  // whether to add into it (it already holds a gradient) or to assign (it has just been
  // allocated and left uninitialised: the zeroing grad_buffer() does would be wasted).
  struct GradOut {
    Tensor* buffer = nullptr;
    bool accumulate = true;
  };
  GradOut grad_out();
  // Hands over `g`, an output's gradient its producing closure is done with: adopted as
  // this node's gradient without a copy when it has none yet (the storage is then this
  // node's alone: no other live node holds it), else added in. A closure that hands its
  // output's gradient on leaves the output with none: an intermediate Var held past the
  // backward may show no gradient (in PyTorch, non-leaf tensors keep none at all).
  void take_grad(Tensor g);
  // Adds a copy of `g` (which stays the caller's) into this node's gradient.
  void add_grad(const Tensor& g);

  // Bookkeeping for Var (below): live Var handles, and whether the value's storage is
  // dropped when they are gone (op results; never leaves or parameters). Atomic because
  // translation workers share the parameters' Nodes across threads.
  std::atomic<int32_t> handles{0};
  bool releasable = false;
};

// A reference to a Node that does not keep its value alive: what tape closures capture.
using NodeRef = std::shared_ptr<Node>;

// The handle model code holds: a shared pointer to a Node that also counts its handles.
class Var {
 public:
  Var() noexcept = default;
  Var(std::nullptr_t) noexcept {}               // NOLINT: implicit, like shared_ptr
  Var(NodeRef n) noexcept : n_(std::move(n)) {  // NOLINT
    if (n_) ++n_->handles;
  }
  Var(const Var& o) noexcept : n_(o.n_) {
    if (n_) ++n_->handles;
  }
  Var(Var&& o) noexcept : n_(std::move(o.n_)) {}
  Var& operator=(const Var& o) noexcept {
    Var tmp(o);
    n_.swap(tmp.n_);
    return *this;
  }
  Var& operator=(Var&& o) noexcept {
    Var tmp(std::move(o));
    n_.swap(tmp.n_);
    return *this;
  }
  ~Var() { drop(); }

  Node* operator->() const noexcept { return n_.get(); }
  Node& operator*() const noexcept { return *n_; }
  Node* get() const noexcept { return n_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(n_); }
  void reset() noexcept {
    drop();
    n_.reset();
  }
  // The Node without a handle, for tape closures (see the note atop this file).
  const NodeRef& node() const noexcept { return n_; }

  friend bool operator==(const Var& a, const Var& b) { return a.n_ == b.n_; }
  friend bool operator!=(const Var& a, const Var& b) { return a.n_ != b.n_; }
  friend bool operator==(const Var& a, std::nullptr_t) { return !a.n_; }
  friend bool operator!=(const Var& a, std::nullptr_t) { return static_cast<bool>(a.n_); }

 private:
  void drop() noexcept;
  NodeRef n_;
};

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

// What a backward closure captures of a value it needs only when `needed`: the tensor
// itself, else its shape alone (no storage kept).
inline Tensor saved_if(bool needed, const Tensor& t) { return needed ? t : Tensor::view(nullptr, t.shape()); }

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
