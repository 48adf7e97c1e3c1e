#include "ops/cross_entropy.h"

#include <oneapi/dnnl/dnnl.hpp>

#include "core/context.h"
#include "core/error.h"
#include "ops/checks.h"
#include "ops/dnnl_util.h"
#include "ops/softmax.h"

namespace nmt {

namespace {
constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they save

// logp = log_softmax(logits) along axis 1 of [M, V]: softmax's primitive (ops/softmax.h).
void log_softmax_rows(const Tensor& logits, Tensor& logp) {
  if (logits.numel() == 0) return;
  softmax_forward(logits, logp, /*log=*/true);
}

void check_targets(const char* op, const Tensor& logits, const std::vector<int32_t>& targets, bool allow_ignore,
                   int32_t ignore_id) {
  check_rank(op, logits, 2, "logits [M, V]");
  if (logits.dim(1) == 0) throw Error(cat(op, ": empty vocabulary in logits ", shape_str(logits.shape())));
  if (static_cast<int64_t>(targets.size()) != logits.dim(0))
    throw Error(cat(op, ": ", targets.size(), " targets for logits ", shape_str(logits.shape())));
  const int64_t v = logits.dim(1);
  for (size_t m = 0; m < targets.size(); ++m) {
    const int32_t t = targets[m];
    if ((t < 0 || t >= v) && !(allow_ignore && t == ignore_id))
      throw Error(cat(op, ": target ", t, " at row ", m, " out of range for logits ", shape_str(logits.shape())));
  }
}
}  // namespace

void cross_entropy_forward(const Tensor& logits, const std::vector<int32_t>& targets, float eps, int32_t ignore_id,
                           Tensor& logp, Tensor& loss) {
  log_softmax_rows(logits, logp);
  const int64_t m_rows = logits.dim(0), v = logits.dim(1);
  const float* lp = logp.data();
  float* out = loss.data();
  const double smooth = static_cast<double>(eps) / static_cast<double>(v);
#pragma omp parallel for if (m_rows * v > kParallelMin)
  for (int64_t m = 0; m < m_rows; ++m) {
    if (targets[m] == ignore_id) {
      out[m] = 0.f;
      continue;
    }
    const float* row = lp + m * v;
    double all = 0;
    if (eps != 0.f) {
#pragma omp simd reduction(+ : all)
      for (int64_t j = 0; j < v; ++j) all += row[j];
    }
    out[m] = static_cast<float>(-(1.0 - eps) * row[targets[m]] - smooth * all);
  }
}

void cross_entropy_backward(const Tensor& logp, const std::vector<int32_t>& targets, float eps, int32_t ignore_id,
                            const Tensor& dloss, Tensor& dlogits, bool accumulate) {
  const Shape& shape = logp.shape();
  const int64_t m_rows = shape[0], v = shape[1];
  if (m_rows == 0) return;
  // diff_dst of the log-softmax: -q * dloss (zero on ignored rows). Written straight into the
  // output when it is to be overwritten, and transformed there in place by oneDNN.
  Tensor diff = accumulate ? Tensor(shape) : dlogits;
  float* d = diff.data();
  const float* g = dloss.data();
  const float smooth = eps / static_cast<float>(v);
#pragma omp parallel for if (m_rows * v > kParallelMin)
  for (int64_t m = 0; m < m_rows; ++m) {
    float* row = d + m * v;
    const bool ignored = targets[m] == ignore_id;
    const float fill = ignored ? 0.f : -smooth * g[m];
#pragma omp simd
    for (int64_t j = 0; j < v; ++j) row[j] = fill;
    if (!ignored) row[targets[m]] -= (1.f - eps) * g[m];
  }
  softmax_backward(logp, diff, diff, /*log=*/true, /*accumulate=*/false);
  if (accumulate) {
    float* out = dlogits.data();
    const int64_t n = m_rows * v;
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] += d[i];
  }
}

Var cross_entropy(const Var& logits, const std::vector<int32_t>& targets, float label_smoothing, int32_t ignore_id) {
  check_targets("cross_entropy", logits->value, targets, true, ignore_id);
  if (!(label_smoothing >= 0.f && label_smoothing <= 1.f))
    throw Error(cat("cross_entropy: label smoothing ", label_smoothing, " not in [0, 1]"));
  Tensor logp(logits->value.shape());
  Var loss = result(Tensor({logits->value.dim(0)}), {&logits});
  cross_entropy_forward(logits->value, targets, label_smoothing, ignore_id, logp, loss->value);
  if (loss->requires_grad) {
    Tape::current().push([logits = logits.node(), loss = loss.node(), logp, targets, label_smoothing, ignore_id] {
      if (loss->grad.empty()) return;
      // A fresh gradient buffer is written directly (no zero fill, no temporary).
      const bool fresh = logits->grad.empty();
      if (fresh) logits->grad = Tensor(logits->value.shape());
      cross_entropy_backward(logp, targets, label_smoothing, ignore_id, loss->grad, logits->grad, !fresh);
    });
  }
  return loss;
}

std::vector<float> target_log_probs(const Tensor& logits, const std::vector<int32_t>& targets) {
  check_targets("target_log_probs", logits, targets, false, 0);
  Tensor logp(logits.shape());
  log_softmax_rows(logits, logp);
  const int64_t v = logits.dim(1);
  std::vector<float> out(targets.size());
  for (size_t m = 0; m < targets.size(); ++m) out[m] = logp[static_cast<int64_t>(m) * v + targets[m]];
  return out;
}

}  // namespace nmt
