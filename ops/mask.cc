#include "ops/mask.h"

#include <utility>

#include "core/error.h"
#include "ops/checks.h"

namespace nmt {

namespace {
constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they save

void check_mask(const Tensor& scores, const Tensor& key_mask, bool causal) {
  check_rank("mask_scores", scores, 4, "scores [N, G, Tq, Tk]");
  if (!key_mask.empty()) {
    check_rank("mask_scores", key_mask, 2, "key_mask [N, Tk]");
    if (key_mask.dim(0) != scores.dim(0) || key_mask.dim(1) != scores.dim(3))
      throw Error(cat("mask_scores: key_mask ", shape_str(key_mask.shape()), " does not match scores ",
                      shape_str(scores.shape()), " (expected [N, Tk])"));
  }
  if (causal && scores.dim(2) > scores.dim(3))
    throw Error(cat("mask_scores: causal mask needs Tq <= Tk, got scores ", shape_str(scores.shape())));
}

// What apply_mask writes at an entry: the forward's score or kMaskedScore, the backward's
// gradient or 0, or the gradient added in (nothing at masked entries).
enum class MaskMode { Forward, Backward, BackwardAdd };

// Visits every (row, k) of scores viewed as [N*G*Tq, Tk] with whether it is kept.
template <MaskMode M>
void apply_mask(const Shape& s, const Tensor& key_mask, bool causal, const float* src, float* dst) {
  const int64_t n = s[0], g = s[1], tq = s[2], tk = s[3];
  const int64_t rows = n * g * tq;
  const int64_t offset = tk - tq;  // query q sits at key position q + offset
  const float* km = key_mask.empty() ? nullptr : key_mask.data();
#pragma omp parallel for if (rows * tk > kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t q = r % tq;
    const int64_t b = r / (g * tq);
    const int64_t visible = causal ? q + offset + 1 : tk;  // keys [0, visible) pass the causal test
    const float* m = km ? km + b * tk : nullptr;
    const float* x = src + r * tk;
    float* y = dst + r * tk;
    for (int64_t k = 0; k < tk; ++k) {
      const bool keep = k < visible && (!m || m[k] >= 0.5f);
      if (M == MaskMode::BackwardAdd) {
        if (keep) y[k] += x[k];
      } else if (M == MaskMode::Backward) {
        y[k] = keep ? x[k] : 0.f;
      } else {
        y[k] = keep ? x[k] : kMaskedScore;
      }
    }
  }
}
}  // namespace

void mask_scores_forward(const Tensor& scores, const Tensor& key_mask, bool causal, Tensor& out) {
  apply_mask<MaskMode::Forward>(scores.shape(), key_mask, causal, scores.data(), out.data());
}

void mask_scores_backward(const Tensor& dout, const Tensor& key_mask, bool causal, Tensor& dscores, bool accumulate) {
  if (accumulate)
    apply_mask<MaskMode::BackwardAdd>(dout.shape(), key_mask, causal, dout.data(), dscores.data());
  else
    apply_mask<MaskMode::Backward>(dout.shape(), key_mask, causal, dout.data(), dscores.data());
}

Var mask_scores(const Var& scores, const Tensor& key_mask, bool causal) {
  check_mask(scores->value, key_mask, causal);
  Var c = result(Tensor(scores->value.shape()), {&scores});
  mask_scores_forward(scores->value, key_mask, causal, c->value);
  if (c->requires_grad) {
    // The mask is small ([N, Tk]); a copy keeps the backward independent of the caller's buffer.
    Tensor mask = key_mask.empty() ? Tensor() : key_mask.clone();
    Tape::current().push([scores = scores.node(), c = c.node(), mask, causal] {
      if (c->grad.empty()) return;
      if (scores->grad.empty()) {  // the first gradient: c's, with its masked entries zeroed in place
        Tensor g = std::exchange(c->grad, Tensor());
        mask_scores_backward(g, mask, causal, g, false);
        scores->take_grad(std::move(g));
      } else {
        mask_scores_backward(c->grad, mask, causal, scores->grad);
      }
    });
  }
  return c;
}

}  // namespace nmt
