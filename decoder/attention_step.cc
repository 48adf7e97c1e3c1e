#include "decoder/attention_step.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "ops/mask.h"
#include "ops/matmul.h"
#include "ops/softmax.h"

namespace nmt {

void KeyValueCache::start(int64_t rows, int64_t heads, int64_t cap, int64_t dh) {
  k_buffer_ = Tensor({rows, heads, cap, dh});
  v_buffer_ = Tensor::zeros({rows, heads, cap, dh});  // unfilled values zero: 0 * NaN is not 0
  k_spare_ = v_spare_ = Tensor();
  k = k_buffer_;
  v = v_buffer_;
  steps = 0;
}

void KeyValueCache::copy_rows(const std::vector<int32_t>& rows, Tensor& kb, Tensor& vb) const {
  const int64_t R = k.dim(0), H = k.dim(1), cap = k.dim(2), dh = k.dim(3), filled = steps * dh;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= R) throw Error(cat("KeyValueCache::select: row ", rows[i], " out of ", R));
    for (int64_t h = 0; h < H; ++h) {
      const int64_t from = (rows[i] * H + h) * cap * dh, to = (static_cast<int64_t>(i) * H + h) * kb.dim(2) * dh;
      std::copy_n(k.data() + from, filled, kb.data() + to);
      std::copy_n(v.data() + from, filled, vb.data() + to);
    }
  }
}

void KeyValueCache::select(const std::vector<int32_t>& rows) {
  if (k.empty()) return;
  const int64_t n = static_cast<int64_t>(rows.size());
  bool identity = n == k.dim(0);
  for (int64_t i = 0; identity && i < n; ++i) identity = rows[i] == static_cast<int32_t>(i);
  if (identity) return;
  if (k_spare_.empty() || k_spare_.dim(0) < n) {
    k_spare_ = Tensor({n, k.dim(1), capacity(), k.dim(3)});
    v_spare_ = Tensor::zeros({n, k.dim(1), capacity(), k.dim(3)});
  }
  copy_rows(rows, k_spare_, v_spare_);
  std::swap(k_buffer_, k_spare_);
  std::swap(v_buffer_, v_spare_);
  k = n == k_buffer_.dim(0) ? k_buffer_ : k_buffer_.leading(n);
  v = n == v_buffer_.dim(0) ? v_buffer_ : v_buffer_.leading(n);
}

void KeyValueCache::grow(int64_t cap) {
  if (cap < steps) throw Error(cat("KeyValueCache: capacity ", cap, " below the ", steps, " positions filled"));
  const Shape shape{k.dim(0), k.dim(1), cap, k.dim(3)};
  Tensor nk(shape), nv = Tensor::zeros(shape);
  std::vector<int32_t> all(static_cast<size_t>(k.dim(0)));
  std::iota(all.begin(), all.end(), 0);
  copy_rows(all, nk, nv);
  k = k_buffer_ = std::move(nk);
  v = v_buffer_ = std::move(nv);
  k_spare_ = v_spare_ = Tensor();  // of the old capacity
}

namespace {

// Writes the keys and values of a fused projection qkv [R, 1, 3 * H * dh] at position
// cache.steps, growing the buffers by kCacheGrowth positions first when they are full.
// Growing copies the filled positions, which every step reads anyway, once per kCacheGrowth
// steps; the products never run over more than kCacheGrowth - 1 unfilled positions.
constexpr int64_t kCacheGrowth = 8;

void append(KeyValueCache& cache, const Tensor& qkv, int64_t heads) {
  const int64_t R = qkv.dim(0), d = qkv.dim(2) / 3, dh = d / heads;
  if (!cache.k.empty() && cache.k.dim(0) != R)
    throw Error(cat("self_attention_step: x has ", R, " rows but the cache ", cache.k.dim(0)));
  if (cache.k.empty())
    cache.start(R, heads, kCacheGrowth, dh);
  else if (cache.steps == cache.capacity())
    cache.grow(cache.capacity() + kCacheGrowth);
  const int64_t cap = cache.capacity();
  for (int64_t r = 0; r < R; ++r)
    for (int64_t h = 0; h < heads; ++h) {
      const float* src = qkv.data() + r * 3 * d + h * dh;
      const int64_t to = ((r * heads + h) * cap + cache.steps) * dh;
      std::copy_n(src + d, dh, cache.k.data() + to);
      std::copy_n(src + 2 * d, dh, cache.v.data() + to);
    }
  ++cache.steps;
}

}  // namespace

Var self_attention_step(const MultiHeadAttention& att, const Var& x, KeyValueCache& cache) {
  if (att.kind() != MultiHeadAttention::Kind::Self) throw Error("self_attention_step on a cross-attention module");
  if (x->value.rank() != 3 || x->value.dim(1) != 1 || x->value.dim(2) != att.dim())
    throw Error(cat("a step takes x [R, 1, ", att.dim(), "], got ", shape_str(x->value.shape())));
  if (att.records_gradient(x)) throw Error("self_attention_step records no gradient (use it under a NoGradScope)");
  const int64_t R = x->value.dim(0), H = att.heads(), dh = att.dim() / att.heads();
  const Tensor qkv = att.project_in(x)->value;  // [R, 1, 3d]: q, k, v, each [H, dh]
  append(cache, qkv, H);
  Tensor q({R, H, dh});
  for (int64_t r = 0; r < R; ++r) std::copy_n(qkv.data() + r * 3 * att.dim(), att.dim(), q.data() + r * att.dim());
  // Per (row, head): scores [1, capacity] = q K^T / sqrt(dh), the unfilled positions set to
  // -inf, softmax, context [1, dh] = w V. The context [R, H, 1, dh] is already
  // [R, 1, H * dh]: no head merging needed.
  const int64_t T = cache.steps, cap = cache.capacity();
  Tensor w({R, H, 1, cap});
  matmul_raw({q.data(), R * H, 1, dh, false}, {cache.k.data(), R * H, cap, dh, true}, w.data(),
             1.0f / std::sqrt(static_cast<float>(dh)), false);
  for (int64_t b = 0; b < R * H; ++b) std::fill_n(w.data() + b * cap + T, cap - T, -INFINITY);
  softmax_forward(w, w);
  Tensor context({R, 1, att.dim()});
  matmul_raw({w.data(), R * H, 1, cap, false}, {cache.v.data(), R * H, cap, dh, false}, context.data(), 1.0f, false);
  return att.project_out(leaf(context));
}

Var cross_attention_step(const MultiHeadAttention& att, const Var& x, const KeysValues& memory, const Tensor& key_mask,
                         const QueryGroups& groups, Var* weights) {
  if (att.kind() != MultiHeadAttention::Kind::Cross) throw Error("cross_attention_step on a self-attention module");
  const int64_t R = x->value.dim(0), H = att.heads(), dh = att.dim() / att.heads();
  if (x->value.rank() != 3 || x->value.dim(1) != 1 || x->value.dim(2) != att.dim() ||
      static_cast<int64_t>(groups.group.size()) != R || static_cast<int64_t>(groups.slot.size()) != R)
    throw Error(cat("a step takes x [R, 1, ", att.dim(), "] and R groups and slots, got x ",
                    shape_str(x->value.shape()), ", ", groups.group.size(), " groups, ", groups.slot.size(), " slots"));
  const Tensor& mk = memory.k->value;
  if (mk.rank() != 4 || mk.dim(0) != groups.groups || mk.dim(1) != H || mk.dim(3) != dh)
    throw Error(cat("memory ", shape_str(mk.shape()), " for ", groups.groups, " groups of ", H, " heads of ", dh));
  if (att.records_gradient(x) || Tape::current().recording({&memory.k, &memory.v}))
    throw Error("cross_attention_step records no gradient (use it under a NoGradScope)");
  const int64_t G = groups.groups, K = groups.slots, S = mk.dim(2);
  for (int64_t r = 0; r < R; ++r)
    if (groups.group[r] < 0 || groups.group[r] >= G || groups.slot[r] < 0 || groups.slot[r] >= K)
      throw Error(cat("row ", r, " in group ", groups.group[r], " slot ", groups.slot[r], " of ", G, " x ", K));
  // Row r's heads -> q[group, h, slot]; empty slots stay zero (uniform weights, never read).
  const Tensor q = att.project_in(x)->value;  // [R, 1, H * dh]
  Tensor qg = Tensor::zeros({G, H, K, dh});
  auto at = [&](int64_t r, int64_t h) { return ((groups.group[r] * H + h) * K + groups.slot[r]); };
  for (int64_t r = 0; r < R; ++r)
    for (int64_t h = 0; h < H; ++h) std::copy_n(q.data() + (r * H + h) * dh, dh, qg.data() + at(r, h) * dh);
  Tensor w({G, H, K, S});
  matmul_forward(qg, mk, w, false, true, 1.0f / std::sqrt(static_cast<float>(dh)));
  if (!key_mask.empty()) mask_scores_forward(w, key_mask, false, w);
  softmax_forward(w, w);
  Tensor cg({G, H, K, dh});
  matmul_forward(w, memory.v->value, cg);
  Tensor context({R, 1, att.dim()});
  for (int64_t r = 0; r < R; ++r)
    for (int64_t h = 0; h < H; ++h) std::copy_n(cg.data() + at(r, h) * dh, dh, context.data() + (r * H + h) * dh);
  if (weights) {
    Tensor wr({R, H, 1, S});
    for (int64_t r = 0; r < R; ++r)
      for (int64_t h = 0; h < H; ++h) std::copy_n(w.data() + at(r, h) * S, S, wr.data() + (r * H + h) * S);
    *weights = leaf(wr);
  }
  return att.project_out(leaf(context));
}

}  // namespace nmt
