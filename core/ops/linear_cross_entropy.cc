#include "core/ops/linear_cross_entropy.h"

#include <cstring>

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

// out[k, :] = x[rows[k], :] of a [M, E] x.
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  const int64_t E = x.dim(1), K = static_cast<int64_t>(rows.size());
  Tensor out({K, E});
#pragma omp parallel for if (K * E > 32768)
  for (int64_t k = 0; k < K; ++k) std::memcpy(out.data() + k * E, x.data() + rows[k] * E, E * sizeof(float));
  return out;
}

// dx[rows[k], :] += d[k, :].
void scatter_add_rows(const Tensor& d, const std::vector<int64_t>& rows, Tensor& dx) {
  const int64_t E = d.dim(1), K = static_cast<int64_t>(rows.size());
#pragma omp parallel for if (K * E > 32768)
  for (int64_t k = 0; k < K; ++k) {
    const float* s = d.data() + k * E;
    float* o = dx.data() + rows[k] * E;
#pragma omp simd
    for (int64_t e = 0; e < E; ++e) o[e] += s[e];
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
  const Tensor* bv = b ? &b->value : nullptr;
  linear_shape(hidden->value, w->value, bv);  // checks the shapes

  // Only the rows that count: padding is often a third of a batch's rows, and the [rows, V]
  // buffer is the largest tensor of training.
  std::vector<int64_t> kept;
  for (int64_t m = 0; m < M; ++m)
    if (targets[m] != ignore_id) kept.push_back(m);
  const int64_t K = static_cast<int64_t>(kept.size());
  const bool all = K == M;
  const Tensor h = all ? hidden->value : gather_rows(hidden->value, kept);  // [K, E]
  std::vector<int32_t> kept_targets;
  if (!all)
    for (int64_t m : kept) kept_targets.push_back(targets[m]);
  const std::vector<int32_t>& t = all ? targets : kept_targets;

  Var loss = result(Tensor::zeros({M}), {&hidden, &w, &b});
  if (K == 0) return loss;  // no row counts: zero loss, zero gradient
  Tensor buf({K, V});
  linear_forward(h, w->value, bv, buf);
  Tensor kept_loss = all ? loss->value : Tensor({K});
  cross_entropy_forward(buf, t, label_smoothing, ignore_id, buf, kept_loss);  // buf: log-probs
  if (!all)
    for (int64_t k = 0; k < K; ++k) loss->value[kept[k]] = kept_loss[k];
  if (loss->requires_grad) {
    Tape::current().push([hidden = hidden.node(), w = w.node(), b = b.node(), loss = loss.node(),
                          hv = saved_if(w->requires_grad, h), wv = saved_if(hidden->requires_grad, w->value), buf,
                          t = std::move(kept_targets), kept = std::move(kept), all, targets, label_smoothing,
                          ignore_id]() mutable {
      if (loss->grad.empty()) return;
      const int64_t K = buf.dim(0);
      Tensor dloss = all ? loss->grad : Tensor({K});
      if (!all)
        for (int64_t k = 0; k < K; ++k) dloss[k] = loss->grad[kept[k]];
      logp_to_logit_grad(buf, all ? targets : t, label_smoothing, ignore_id, dloss);
      Tensor dh;  // the kept rows' gradient, added into the hidden gradient's rows
      if (hidden->requires_grad) dh = all ? hidden->grad_buffer() : Tensor::zeros({K, hv.dim(1)});
      linear_backward(hv, wv, buf, dh.empty() ? nullptr : &dh, w->requires_grad ? &w->grad_buffer() : nullptr,
                      b && b->requires_grad ? &b->grad_buffer() : nullptr);
      if (!all && !dh.empty()) scatter_add_rows(dh, kept, hidden->grad_buffer());
    });
  }
  return loss;
}

}  // namespace nmt
