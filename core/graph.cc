#include "core/graph.h"

#include "core/error.h"

namespace nmt {

Tensor& Node::grad_buffer() {
  if (grad.empty()) grad = Tensor::zeros(value.shape());
  return grad;
}

Node::GradOut Node::grad_out() {
  if (!grad.empty()) return {&grad, true};
  grad = Tensor(value.shape());
  return {&grad, false};
}

namespace {
constexpr int64_t kParallelMin = 32768;

void check_grad_shape(const char* what, const Tensor& g, const Shape& value) {
  if (g.shape() != value)
    throw Error(cat(what, ": a gradient of shape ", shape_str(g.shape()), " for a value of shape ", shape_str(value)));
}

template <bool Accumulate>
void write_into(const Tensor& g, Tensor& into) {
  const float* s = g.data();
  float* d = into.data();
  const int64_t n = into.numel();
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) d[i] = Accumulate ? d[i] + s[i] : s[i];
}
}  // namespace

void Node::take_grad(Tensor g) {
  check_grad_shape("take_grad", g, value.shape());
  if (grad.empty())
    grad = std::move(g);
  else
    write_into<true>(g, grad);
}

void Node::add_grad(const Tensor& g) {
  check_grad_shape("add_grad", g, value.shape());
  const GradOut out = grad_out();
  if (out.accumulate)
    write_into<true>(g, *out.buffer);
  else
    write_into<false>(g, *out.buffer);
}

void Var::drop() noexcept {
  if (!n_ || --n_->handles > 0 || !n_->releasable) return;
  // Closures still referring to the Node (use_count > 1) need only its gradient and shape;
  // otherwise the Node goes with this handle anyway.
  if (n_.use_count() > 1) n_->value.drop_storage();
}

Var leaf(Tensor value, bool requires_grad) {
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  n->requires_grad = requires_grad;
  return n;
}

Var param_leaf(Tensor value, Tensor grad) {
  if (value.shape() != grad.shape())
    throw Error(cat("param_leaf: value ", shape_str(value.shape()), " grad ", shape_str(grad.shape())));
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  n->grad = std::move(grad);
  n->requires_grad = true;
  return n;
}

Tape& Tape::current() {
  thread_local Tape tape;
  return tape;
}

bool Tape::recording(std::initializer_list<const Var*> inputs) const {
  if (!enabled_) return false;
  for (const Var* v : inputs)
    if (*v && (*v)->requires_grad) return true;
  return false;
}

Var result(Tensor value, std::initializer_list<const Var*> inputs) {
  Var v = leaf(std::move(value), Tape::current().recording(inputs));
  v->releasable = true;
  return v;
}

void Tape::backward(const Var& out) {
  Tensor seed = Tensor::full(out->value.shape(), 1.0f);
  backward(out, seed);
}

void Tape::backward(const Var& out, const Tensor& seed) {
  if (seed.shape() != out->value.shape())
    throw Error(cat("backward: seed ", shape_str(seed.shape()), " for output ", shape_str(out->value.shape())));
  Tensor& g = out->grad_buffer();
  float* gp = g.data();
  const float* sp = seed.data();
  for (int64_t i = 0; i < g.numel(); ++i) gp[i] += sp[i];
  // Each closure is destroyed as soon as it has run: the Vars only it captured (an
  // intermediate's value and gradient) are freed then, so peak memory is the forward's
  // activations plus the gradients in flight, not every gradient of the step.
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it) {
    (*it)();
    *it = nullptr;
  }
  ops_.clear();
}

}  // namespace nmt
