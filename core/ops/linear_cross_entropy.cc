#include "core/ops/linear_cross_entropy.h"

#include "core/error.h"
#include "core/ops/checks.h"
#include "core/ops/cross_entropy.h"
#include "core/ops/eltwise_exp.h"
#include "core/ops/linear.h"

namespace nmt {
namespace {

// logp (in place) -> (softmax - q) * dloss[m], zero for ignored rows.
void logp_to_logit_grad(Tensor& buf, const std::vector<int32_t>& targets, float eps, int32_t ignore_id,
                        const Tensor& dloss) {
  exp_inplace(buf);  // softmax
  const int64_t M = buf.dim(0), V = buf.dim(1);
  const float uniform = eps / static_cast<float>(V);
  float* p = buf.data();
#pragma omp parallel for
  for (int64_t m = 0; m < M; ++m) {
    float* row = p + m * V;
    if (targets[m] == ignore_id) {
      for (int64_t v = 0; v < V; ++v) row[v] = 0.0f;
      continue;
    }
    const float g = dloss[m];
#pragma omp simd
    for (int64_t v = 0; v < V; ++v) row[v] = (row[v] - uniform) * g;
    row[targets[m]] -= (1.0f - eps) * g;
  }
}

}  // namespace

Var linear_cross_entropy(const Var& hidden, const Var& w, const Var& b, const std::vector<int32_t>& targets,
                         float label_smoothing, int32_t ignore_id) {
  check_rank("linear_cross_entropy", hidden->value, 2, "hidden");
  const int64_t M = hidden->value.dim(0);
  if (static_cast<int64_t>(targets.size()) != M)
    throw Error(cat("linear_cross_entropy: ", targets.size(), " targets for ", M, " rows"));
  const int64_t V = w->value.dim(0);
  for (size_t m = 0; m < targets.size(); ++m)
    if (targets[m] != ignore_id && (targets[m] < 0 || targets[m] >= V))
      throw Error(cat("linear_cross_entropy: target ", targets[m], " at row ", m, " outside the vocabulary of ", V));
  Tensor buf(linear_shape(hidden->value, w->value, b ? &b->value : nullptr));  // [M, V]
  linear_forward(hidden->value, w->value, b ? &b->value : nullptr, buf);
  Var loss = result(Tensor({M}), {&hidden, &w, &b});
  cross_entropy_forward(buf, targets, label_smoothing, ignore_id, buf, loss->value);  // buf: log-probs
  if (loss->requires_grad) {
    Tape::current().push([hidden, w, b, loss, buf, targets, label_smoothing, ignore_id]() mutable {
      if (loss->grad.empty()) return;
      logp_to_logit_grad(buf, targets, label_smoothing, ignore_id, loss->grad);
      linear_backward(hidden->value, w->value, buf, hidden->requires_grad ? &hidden->grad_buffer() : nullptr,
                      w->requires_grad ? &w->grad_buffer() : nullptr,
                      b && b->requires_grad ? &b->grad_buffer() : nullptr);
    });
  }
  return loss;
}

}  // namespace nmt
