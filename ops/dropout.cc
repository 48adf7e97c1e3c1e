#include "ops/dropout.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "ops/shape_ops.h"

namespace nmt {

namespace {
constexpr int64_t kParallelMin = 32768;  // elements below which threads cost more than they save

void check_p(float p) {
  if (!(p >= 0.f && p < 1.f)) throw Error(cat("dropout: probability ", p, " not in [0, 1)"));
}

// murmur3's 32-bit finaliser: a bijection with full avalanche, vectorisable (32-bit multiplies).
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Applies the mask: x viewed as [outer, a, inner], mask entry (o, i) when broadcasting over
// the middle axis, otherwise (outer = a = 1) one entry per element. Entry j is kept when
// fmix32(fmix32(j + key_lo) + key_hi) >= p * 2^32: two keyed rounds, so masks of different
// calls are not simple shuffles of each other.
template <bool Backward>
void apply(const Tensor& x, float p, uint64_t key, int broadcast_axis, float* y) {
  const Shape& s = x.shape();
  int64_t outer = 1, a = 1, inner = x.numel();
  if (broadcast_axis >= 0) {
    outer = 1;
    for (int i = 0; i < broadcast_axis; ++i) outer *= s[i];
    a = s[broadcast_axis];
    inner = 1;
    for (size_t i = broadcast_axis + 1; i < s.size(); ++i) inner *= s[i];
  }
  const uint32_t k_lo = static_cast<uint32_t>(key), k_hi = static_cast<uint32_t>(key >> 32);
  const uint32_t threshold = static_cast<uint32_t>(static_cast<double>(p) * 4294967296.0);
  const float kept = 1.0f / (1.0f - p);
  const float* px = x.data();
  // Rows of the no-broadcast case are cut into chunks so the loop still parallelises.
  const int64_t chunk = broadcast_axis >= 0 ? inner : std::min<int64_t>(inner, 16384);
  const int64_t chunks_per_row = chunk ? (inner + chunk - 1) / chunk : 0;
  const int64_t units = outer * a * chunks_per_row;
#pragma omp parallel for if (outer * a * inner > kParallelMin)
  for (int64_t u = 0; u < units; ++u) {
    const int64_t r = u / chunks_per_row, c0 = (u % chunks_per_row) * chunk;
    const int64_t len = std::min(chunk, inner - c0);
    const uint32_t base = static_cast<uint32_t>((r / a) * inner + c0);  // mask index of the first entry
    const float* xr = px + r * inner + c0;
    float* yr = y + r * inner + c0;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) {
      const uint32_t h = fmix32(fmix32(base + static_cast<uint32_t>(i) + k_lo) + k_hi);
      const float m = h >= threshold ? kept : 0.f;
      if (Backward)
        yr[i] += m * xr[i];
      else
        yr[i] = m * xr[i];
    }
  }
}
}  // namespace

void dropout_forward(const Tensor& x, float p, uint64_t key, int broadcast_axis, Tensor& y) {
  apply<false>(x, p, key, broadcast_axis, y.data());
}

void dropout_backward(const Tensor& dy, float p, uint64_t key, int broadcast_axis, Tensor& dx) {
  apply<true>(dy, p, key, broadcast_axis, dx.data());
}

namespace {
// axis: a normalised broadcast axis, or -1 for an independent mask per element.
Var dropout_impl(const Var& x, float p, bool training, Rng& rng, int axis) {
  check_p(p);
  if (p == 0.f || !training) return x;
  const uint64_t key = rng.next_u64();
  Var y = result(Tensor(x->value.shape()), {&x});
  dropout_forward(x->value, p, key, axis, y->value);
  if (y->requires_grad) {
    Tape::current().push([x = x.node(), y = y.node(), p, key, axis] {
      if (y->grad.empty()) return;
      if (!x->grad.empty()) {
        dropout_backward(y->grad, p, key, axis, x->grad);
        return;
      }
      Tensor dx = std::exchange(y->grad, Tensor());  // the first gradient x gets: masked in place
      dropout_forward(dx, p, key, axis, dx);
      x->take_grad(std::move(dx));
    });
  }
  return y;
}
}  // namespace

Var dropout(const Var& x, float p, bool training, Rng& rng) { return dropout_impl(x, p, training, rng, -1); }

Var dropout(const Var& x, float p, bool training, Rng& rng, int broadcast_axis) {
  return dropout_impl(x, p, training, rng, normalize_axis("dropout", broadcast_axis, x->value.rank()));
}

}  // namespace nmt
