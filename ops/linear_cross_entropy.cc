#include "ops/linear_cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "ops/checks.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/eltwise_exp.h"
#include "ops/linear.h"

namespace nmt {
namespace {

// At most 18 MiB of logits per chunk: a language model's 1,120 rows of 8,000 classes in two chunks of 560.
constexpr int64_t kChunkFloats = int64_t{9} << 19;
constexpr int64_t kMinChunkRows = 64;

// Rows per chunk for K rows: as many as fit in kChunkFloats, spread evenly over the chunks that
// takes. A short last chunk (72 of 1,120 rows) and products of about 512 rows reduced over the
// whole vocabulary both run the backward's dh = U W well below the matmul peak on AVX2
// (docs/design.md).
int64_t balanced_chunk_rows(int64_t K, int64_t V) {
  const int64_t most = std::max(kMinChunkRows, kChunkFloats / std::max<int64_t>(V, 1));
  const int64_t chunks = (K + most - 1) / most;
  return (K + chunks - 1) / chunks;
}

// logp (in place) -> (softmax - q) * g[m] (g null: 1), zero for ignored rows.
void logp_to_logit_grad(Tensor& buf, const int32_t* targets, float eps, int32_t ignore_id, const float* g) {
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
    const float gm = g ? g[m] : 1.0f;
#pragma omp simd
    for (int64_t v = 0; v < V; ++v) row[v] = (row[v] - uniform) * gm;
    row[targets[m]] -= (1.0f - eps) * gm;
  }
}

// R-Drop's consistency term for the twin rows (2i, 2i+1) of a chunk, whose log-probs la, lb are
// in `buf` (copied to `logp`, of the same shape, as buf turns into probabilities): with
// p = exp(la), q = exp(lb) and S = KL(p||q) + KL(q||p) = sum_v (p_v - q_v)(la_v - lb_v), each
// twin's loss gains twin_kl / 4 * S. With `grads`, buf becomes each row's logit gradient, the
// cross-entropy's (softmax - q_smooth) * g plus the term's, which for row a is
// (g_a + g_b) twin_kl / 4 * dS/da with dS/da_v = p_v (la_v - lb_v - KL(p||q)) + p_v - q_v.
void twin_consistency(Tensor& buf, Tensor& logp, const int32_t* targets, float eps, float twin_kl, float* loss,
                      const float* g, bool grads) {
  const int64_t M = buf.dim(0), V = buf.dim(1);
  logp.copy_from(buf);
  exp_inplace(buf);
  const float uniform = eps / static_cast<float>(V);
#pragma omp parallel for
  for (int64_t i = 0; i < M / 2; ++i) {
    float* pa = buf.data() + 2 * i * V;
    float* pb = pa + V;
    const float* la = logp.data() + 2 * i * V;
    const float* lb = la + V;
    float kl_ab = 0, kl_ba = 0;
#pragma omp simd reduction(+ : kl_ab, kl_ba)
    for (int64_t v = 0; v < V; ++v) {
      kl_ab += pa[v] * (la[v] - lb[v]);
      kl_ba += pb[v] * (lb[v] - la[v]);
    }
    loss[2 * i] += twin_kl / 4 * (kl_ab + kl_ba);
    loss[2 * i + 1] += twin_kl / 4 * (kl_ab + kl_ba);
    if (!grads) continue;
    const float ga = g ? g[2 * i] : 1.0f, gb = g ? g[2 * i + 1] : 1.0f, c = (ga + gb) * twin_kl / 4;
#pragma omp simd
    for (int64_t v = 0; v < V; ++v) {
      const float p = pa[v], q = pb[v], d = la[v] - lb[v];
      pa[v] = ga * (p - uniform) + c * (p * (d - kl_ab) + p - q);
      pb[v] = gb * (q - uniform) + c * (q * (-d - kl_ba) + q - p);
    }
    pa[targets[2 * i]] -= (1.0f - eps) * ga;
    pb[targets[2 * i + 1]] -= (1.0f - eps) * gb;
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

// dx[rows[k], :] += s * d[k, :] (rows empty: every row in order).
void scatter_add_rows(const Tensor& d, const std::vector<int64_t>& rows, float s, Tensor& dx) {
  const int64_t E = d.dim(1), K = d.dim(0);
#pragma omp parallel for if (K * E > 32768)
  for (int64_t k = 0; k < K; ++k) {
    const float* src = d.data() + k * E;
    float* o = dx.data() + (rows.empty() ? k : rows[k]) * E;
#pragma omp simd
    for (int64_t e = 0; e < E; ++e) o[e] += s * src[e];
  }
}

// The products of the linear backward for one chunk of rows, given its logit gradients U:
// dh (+)= U W, dW += U^T h, db += colsum U (each when non-null).
struct Products {
  Tensor* dh;
  Tensor* dw;
  Tensor* db;
};

// Runs the chunks: logits, log-probs, per-row losses; with `grads`, the logit gradients
// (scaled by g when given) and their products. With twin_kl > 0 rows come in twin pairs
// (2i, 2i+1) and chunk_rows is even.
void run_chunks(const Tensor& h, const Tensor& w, const Tensor* b, const int32_t* targets, float eps, int32_t ignore_id,
                int64_t chunk_rows, float twin_kl, float* loss, const float* g, const Products* grads) {
  const int64_t K = h.dim(0), V = w.dim(0);
  Tensor buf({std::min(K, chunk_rows), V});
  Tensor twin_logp = twin_kl > 0 ? Tensor(buf.shape()) : Tensor();  // twin_consistency's copy of the log-probs
  const Operand w_in = Operand::for_product(w);  // in bfloat16: converted once for every chunk's products
  for (int64_t r0 = 0; r0 < K; r0 += chunk_rows) {
    const int64_t n = std::min(chunk_rows, K - r0);
    const Operand hc = Operand::for_product(h.rows(r0, r0 + n));
    Tensor logits = buf.rows(0, n);
    linear_forward(hc, w_in, b, logits);
    const std::vector<int32_t> t(targets + r0, targets + r0 + n);
    Tensor chunk_loss = Tensor::view(loss + r0, {n});
    cross_entropy_forward(logits, t, eps, ignore_id, logits, chunk_loss);  // logits -> log-probs
    if (twin_kl > 0) {
      Tensor logp = twin_logp.rows(0, n);
      twin_consistency(logits, logp, t.data(), eps, twin_kl, loss + r0, g ? g + r0 : nullptr, grads != nullptr);
    }
    if (!grads) continue;
    if (twin_kl == 0) logp_to_logit_grad(logits, t.data(), eps, ignore_id, g ? g + r0 : nullptr);
    Tensor dh_rows = grads->dh ? grads->dh->rows(r0, r0 + n) : Tensor();
    linear_backward(hc, w_in, logits, grads->dh ? &dh_rows : nullptr, grads->dw, grads->db);
  }
}

// The rows that count, in order; with twins, as adjacent pairs (m, m + M/2).
std::vector<int64_t> counted_rows(const std::vector<int32_t>& targets, int32_t ignore_id, bool twins) {
  const int64_t M = static_cast<int64_t>(targets.size()), H = M / 2;
  std::vector<int64_t> kept;
  for (int64_t m = 0; m < (twins ? H : M); ++m) {
    if (twins && targets[m] != targets[m + H])
      throw Error(cat("linear_cross_entropy: twin rows ", m, " and ", m + H, " have targets ", targets[m], " and ",
                      targets[m + H]));
    if (targets[m] == ignore_id) continue;
    kept.push_back(m);
    if (twins) kept.push_back(m + H);
  }
  return kept;
}

}  // namespace

Var linear_cross_entropy(const Var& hidden, const Var& w, const Var& b, const std::vector<int32_t>& targets,
                         float label_smoothing, int32_t ignore_id, int64_t chunk_rows, float twin_kl) {
  check_rank("linear_cross_entropy", hidden->value, 2, "hidden");
  const int64_t M = hidden->value.dim(0);
  if (static_cast<int64_t>(targets.size()) != M)
    throw Error(cat("linear_cross_entropy: ", targets.size(), " targets for ", M, " rows"));
  const int64_t V = w->value.dim(0);
  for (size_t m = 0; m < targets.size(); ++m)
    if (targets[m] != ignore_id && (targets[m] < 0 || targets[m] >= V))
      throw Error(cat("linear_cross_entropy: target ", targets[m], " at row ", m, " outside the vocabulary of ", V));
  if (chunk_rows < 0) throw Error(cat("linear_cross_entropy: chunk_rows ", chunk_rows, " < 0"));
  if (!(twin_kl >= 0 && std::isfinite(twin_kl)))
    throw Error(cat("linear_cross_entropy: twin_kl ", twin_kl, " is not a finite weight >= 0"));
  const bool twins = twin_kl > 0;
  if (twins && M % 2 != 0) throw Error(cat("linear_cross_entropy: twin rows need an even row count, got ", M));
  const Tensor* bv = b ? &b->value : nullptr;
  linear_shape(hidden->value, w->value, bv);  // checks the shapes

  // Only the rows that count: padding is often a third of a batch's rows.
  std::vector<int64_t> kept = counted_rows(targets, ignore_id, twins);
  const int64_t K = static_cast<int64_t>(kept.size()), E = hidden->value.dim(1);
  const bool all = K == M && !twins;
  if (all) kept.clear();                                                    // "every row in order" for scatter_add_rows
  const Tensor h = all ? hidden->value : gather_rows(hidden->value, kept);  // [K, E]
  std::vector<int32_t> t;
  if (!all)
    for (int64_t m : kept) t.push_back(targets[m]);
  const std::vector<int32_t>& kept_targets = all ? targets : t;

  Var loss = result(Tensor::zeros({M}), {&hidden, &w, &b});
  if (K == 0) return loss;  // no row counts: zero loss, zero gradient
  if (chunk_rows == 0) chunk_rows = balanced_chunk_rows(K, V);
  if (twins) chunk_rows += chunk_rows % 2;  // a chunk holds whole pairs
  Tensor kept_loss = all ? loss->value : Tensor({K});
  if (!loss->requires_grad) {
    run_chunks(h, w->value, bv, kept_targets.data(), label_smoothing, ignore_id, chunk_rows, twin_kl, kept_loss.data(),
               nullptr, nullptr);
  } else {
    // The products for dloss = 1 on every counted row.
    const bool need_dh = hidden->requires_grad, need_dw = w->requires_grad, need_db = b && b->requires_grad;
    Tensor dh = need_dh ? Tensor::zeros({K, E}) : Tensor();
    Tensor dw = need_dw ? Tensor::zeros(w->value.shape()) : Tensor();
    Tensor db = need_db ? Tensor::zeros({V}) : Tensor();
    const Products unit{need_dh ? &dh : nullptr, need_dw ? &dw : nullptr, need_db ? &db : nullptr};
    run_chunks(h, w->value, bv, kept_targets.data(), label_smoothing, ignore_id, chunk_rows, twin_kl, kept_loss.data(),
               nullptr, &unit);
    Tape::current().push([hidden = hidden.node(), w = w.node(), b = b.node(), loss = loss.node(), dh, dw, db, h,
                          wv = w->value, bval = b ? b->value : Tensor(), kept, t = kept_targets, label_smoothing,
                          ignore_id, chunk_rows, twin_kl]() mutable {
      if (loss->grad.empty()) return;
      const int64_t K = h.dim(0);
      std::vector<float> g(K);
      for (int64_t k = 0; k < K; ++k) g[k] = loss->grad[kept.empty() ? k : kept[k]];
      const bool uniform = std::all_of(g.begin(), g.end(), [&](float x) { return x == g[0]; });
      if (uniform) {
        if (!dh.empty()) scatter_add_rows(dh, kept, g[0], hidden->grad_buffer());
        if (!dw.empty()) scale_backward(dw, g[0], w->grad_buffer());  // += g * dW for dloss = 1
        if (!db.empty()) scale_backward(db, g[0], b->grad_buffer());
        return;
      }
      // Per-row weights: recompute the logits and take the products with the scaled gradients.
      Tensor dh_rows = dh.empty() ? Tensor() : Tensor::zeros({K, h.dim(1)});
      const Products scaled{dh.empty() ? nullptr : &dh_rows, dw.empty() ? nullptr : &w->grad_buffer(),
                            db.empty() ? nullptr : &b->grad_buffer()};
      std::vector<float> unused(K);
      run_chunks(h, wv, b ? &bval : nullptr, t.data(), label_smoothing, ignore_id, chunk_rows, twin_kl, unused.data(),
                 g.data(), &scaled);
      if (!dh.empty()) scatter_add_rows(dh_rows, kept, 1.0f, hidden->grad_buffer());
    });
  }
  if (!all)
    for (int64_t k = 0; k < K; ++k) loss->value[kept[k]] = kept_loss[k];
  return loss;
}

}  // namespace nmt
