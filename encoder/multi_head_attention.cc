#include "encoder/multi_head_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/ops/dropout.h"
#include "core/ops/linear.h"
#include "core/ops/mask.h"
#include "core/ops/matmul.h"
#include "core/ops/shape_ops.h"
#include "core/ops/softmax.h"

namespace nmt {
namespace {

// A fused projection [N, T, G * H * dh] -> G pieces [N, H, T, dh]: the pieces of the
// permute to [G, N, H, T, dh], each copied once from the projection.
std::vector<Var> split_fused_heads(const Var& x, int groups, int heads) {
  const int64_t N = x->value.dim(0), T = x->value.dim(1), D = x->value.dim(2) / (groups * heads);
  return transpose_unbind(reshape(x, {N, T, groups, heads, D}), {2, 0, 3, 1, 4});
}

}  // namespace

Var split_heads(const Var& x, int heads) {
  if (x->value.rank() != 3 || heads < 1 || x->value.dim(2) % heads)
    throw Error(cat("split_heads: cannot split ", shape_str(x->value.shape()), " into ", heads, " heads"));
  const int64_t N = x->value.dim(0), T = x->value.dim(1), D = x->value.dim(2) / heads;
  return transpose(reshape(x, {N, T, heads, D}), {0, 2, 1, 3});
}

Var merge_heads(const Var& x) {
  if (x->value.rank() != 4) throw Error(cat("merge_heads: expected [N, H, T, dh], got ", shape_str(x->value.shape())));
  const int64_t N = x->value.dim(0), H = x->value.dim(1), T = x->value.dim(2), D = x->value.dim(3);
  return reshape(transpose(x, {0, 2, 1, 3}), {N, T, H * D});
}

Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor& key_mask, bool causal,
                                 float dropout_p, bool training, Rng& rng, Var* weights) {
  if (q->value.rank() != 4 || k->value.shape() != v->value.shape() || k->value.rank() != 4 ||
      q->value.dim(0) != k->value.dim(0) || q->value.dim(1) != k->value.dim(1) || q->value.dim(3) != k->value.dim(3))
    throw Error(cat("attention: queries ", shape_str(q->value.shape()), ", keys ", shape_str(k->value.shape()),
                    " and values ", shape_str(v->value.shape()), " do not fit [N, H, T, dh]"));
  const float alpha = 1.0f / std::sqrt(static_cast<float>(q->value.dim(3)));
  Var scores = matmul(q, k, false, true, alpha);  // [N, H, Tq, Tk]
  if (!key_mask.empty() || causal) scores = mask_scores(scores, key_mask, causal);
  Var w = softmax(scores);
  if (weights) *weights = w;
  return matmul(dropout(w, dropout_p, training, rng), v);
}

MultiHeadAttention::MultiHeadAttention(const ParamMaker& param, const std::string& prefix, Kind kind, int64_t dim,
                                       int heads, float dropout_attention)
    : kind_(kind), dim_(dim), heads_(heads), dropout_(dropout_attention) {
  if (heads < 1 || dim % heads)
    throw Error(cat("MultiHeadAttention: dim ", dim, " is not a multiple of ", heads, " heads"));
  // Xavier-uniform over torch's fused [3d, d] in_proj_weight, for every part of it.
  const Init xavier = Init::uniform(std::sqrt(6.0f / static_cast<float>(4 * dim)));
  if (kind == Kind::Self) {
    w_in_ = param(prefix + ".w_qkv", {3 * dim, dim}, xavier);
    b_in_ = param(prefix + ".b_qkv", {3 * dim}, Init::zeros());
  } else {
    w_in_ = param(prefix + ".w_q", {dim, dim}, xavier);
    b_in_ = param(prefix + ".b_q", {dim}, Init::zeros());
    w_kv_ = param(prefix + ".w_kv", {2 * dim, dim}, xavier);
    b_kv_ = param(prefix + ".b_kv", {2 * dim}, Init::zeros());
  }
  w_out_ = param(prefix + ".w_out", {dim, dim}, Init::uniform(1.0f / std::sqrt(static_cast<float>(dim))));
  b_out_ = param(prefix + ".b_out", {dim}, Init::zeros());
}

Var MultiHeadAttention::attend(const Var& q, const KeysValues& kv, const Tensor& key_mask, bool causal,
                               bool training, Rng& rng, Var* weights) const {
  Var ctx = scaled_dot_product_attention(q, kv.k, kv.v, key_mask, causal, dropout_, training, rng, weights);
  return linear(merge_heads(ctx), w_out_, b_out_);
}

Var MultiHeadAttention::self_attention(const Var& x, const Tensor& key_mask, bool causal, bool training,
                                       Rng& rng) const {
  if (kind_ != Kind::Self) throw Error("MultiHeadAttention: self_attention on a cross-attention module");
  std::vector<Var> qkv = split_fused_heads(linear(x, w_in_, b_in_), 3, heads_);
  return attend(qkv[0], {qkv[1], qkv[2]}, key_mask, causal, training, rng, nullptr);
}

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

Var MultiHeadAttention::self_attention_step(const Var& x, KeyValueCache& cache) const {
  if (kind_ != Kind::Self) throw Error("MultiHeadAttention: self_attention_step on a cross-attention module");
  if (x->value.rank() != 3 || x->value.dim(1) != 1 || x->value.dim(2) != dim_)
    throw Error(cat("MultiHeadAttention: a step takes x [R, 1, ", dim_, "], got ", shape_str(x->value.shape())));
  if (Tape::current().recording({&x, &w_in_, &b_in_, &w_out_, &b_out_}))
    throw Error("MultiHeadAttention: self_attention_step records no gradient (use it under a NoGradScope)");
  const int64_t R = x->value.dim(0), H = heads_, dh = dim_ / heads_;
  const Tensor qkv = linear(x, w_in_, b_in_)->value;  // [R, 1, 3d]: q, k, v, each [H, dh]
  append(cache, qkv, H);
  Tensor q({R, H, dh});
  for (int64_t r = 0; r < R; ++r) std::copy_n(qkv.data() + r * 3 * dim_, dim_, q.data() + r * dim_);
  // Per (row, head): scores [1, capacity] = q K^T / sqrt(dh), the unfilled positions set to
  // -inf, softmax, context [1, dh] = w V. The context [R, H, 1, dh] is already
  // [R, 1, H * dh]: no head merging needed.
  const int64_t T = cache.steps, cap = cache.capacity();
  Tensor w({R, H, 1, cap});
  matmul_raw({q.data(), R * H, 1, dh, false}, {cache.k.data(), R * H, cap, dh, true}, w.data(),
             1.0f / std::sqrt(static_cast<float>(dh)), false);
  for (int64_t b = 0; b < R * H; ++b) std::fill_n(w.data() + b * cap + T, cap - T, -INFINITY);
  softmax_forward(w, w);
  Tensor context({R, 1, dim_});
  matmul_raw({w.data(), R * H, 1, cap, false}, {cache.v.data(), R * H, cap, dh, false}, context.data(), 1.0f, false);
  return linear(leaf(context), w_out_, b_out_);
}

bool QueryGroups::rows_in_order() const {
  if (slots > 1 || groups != static_cast<int64_t>(group.size())) return false;
  for (size_t r = 0; r < group.size(); ++r)
    if (group[r] != static_cast<int32_t>(r)) return false;
  return true;
}

Tensor QueryGroups::to_groups(const Tensor& rows) const {
  const int64_t R = static_cast<int64_t>(group.size());
  if (rows.rank() < 1 || rows.dim(0) != R) throw Error(cat("QueryGroups: ", R, " rows, got ", shape_str(rows.shape())));
  const int64_t D = R > 0 ? rows.numel() / R : 0;
  if (rows_in_order()) return rows.reshape({groups, 1, D});
  Tensor out = Tensor::zeros({groups, slots, D});
  for (int64_t r = 0; r < R; ++r) std::copy_n(rows.data() + r * D, D, out.data() + (group[r] * slots + slot[r]) * D);
  return out;
}

Tensor QueryGroups::to_rows(const Tensor& grouped) const {
  const int64_t R = static_cast<int64_t>(group.size());
  if (grouped.rank() < 2 || grouped.dim(0) != groups || grouped.dim(1) != slots)
    throw Error(cat("QueryGroups: ", groups, " groups of ", slots, " slots, got ", shape_str(grouped.shape())));
  const int64_t D = groups * slots > 0 ? grouped.numel() / (groups * slots) : 0;
  if (rows_in_order()) return grouped.reshape({R, D});
  Tensor out({R, D});
  for (int64_t r = 0; r < R; ++r) std::copy_n(grouped.data() + (group[r] * slots + slot[r]) * D, D, out.data() + r * D);
  return out;
}

Var MultiHeadAttention::cross_attention_step(const Var& x, const KeysValues& memory, const Tensor& key_mask,
                                             const QueryGroups& groups, Var* weights) const {
  if (kind_ != Kind::Cross) throw Error("MultiHeadAttention: cross_attention_step on a self-attention module");
  const int64_t R = x->value.dim(0), H = heads_, dh = dim_ / heads_;
  if (x->value.rank() != 3 || x->value.dim(1) != 1 || x->value.dim(2) != dim_ ||
      static_cast<int64_t>(groups.group.size()) != R || static_cast<int64_t>(groups.slot.size()) != R)
    throw Error(cat("MultiHeadAttention: a step takes x [R, 1, ", dim_, "] and R groups and slots, got x ",
                    shape_str(x->value.shape()), ", ", groups.group.size(), " groups, ", groups.slot.size(), " slots"));
  const Tensor& mk = memory.k->value;
  if (mk.rank() != 4 || mk.dim(0) != groups.groups || mk.dim(1) != H || mk.dim(3) != dh)
    throw Error(cat("MultiHeadAttention: memory ", shape_str(mk.shape()), " for ", groups.groups, " groups of ", H,
                    " heads of ", dh));
  if (Tape::current().recording({&x, &w_in_, &b_in_, &w_out_, &b_out_, &memory.k, &memory.v}))
    throw Error("MultiHeadAttention: cross_attention_step records no gradient (use it under a NoGradScope)");
  const int64_t G = groups.groups, K = groups.slots, S = mk.dim(2);
  for (int64_t r = 0; r < R; ++r)
    if (groups.group[r] < 0 || groups.group[r] >= G || groups.slot[r] < 0 || groups.slot[r] >= K)
      throw Error(cat("MultiHeadAttention: row ", r, " in group ", groups.group[r], " slot ", groups.slot[r], " of ", G,
                      " x ", K));
  // Row r's heads -> q[group, h, slot]; empty slots stay zero (uniform weights, never read).
  const Tensor q = linear(x, w_in_, b_in_)->value;  // [R, 1, H * dh]
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
  Tensor context({R, 1, dim_});
  for (int64_t r = 0; r < R; ++r)
    for (int64_t h = 0; h < H; ++h) std::copy_n(cg.data() + at(r, h) * dh, dh, context.data() + (r * H + h) * dh);
  if (weights) {
    Tensor wr({R, H, 1, S});
    for (int64_t r = 0; r < R; ++r)
      for (int64_t h = 0; h < H; ++h) std::copy_n(w.data() + at(r, h) * S, S, wr.data() + (r * H + h) * S);
    *weights = leaf(wr);
  }
  return linear(leaf(context), w_out_, b_out_);
}

KeysValues MultiHeadAttention::memory_keys_values(const Var& memory) const {
  if (kind_ != Kind::Cross) throw Error("MultiHeadAttention: memory_keys_values on a self-attention module");
  if (memory->value.rank() != 3 || memory->value.dim(2) != dim_)
    throw Error(cat("MultiHeadAttention: memory must be [N, S, ", dim_, "], got ", shape_str(memory->value.shape())));
  std::vector<Var> kv = split_fused_heads(linear(memory, w_kv_, b_kv_), 2, heads_);
  return {kv[0], kv[1]};
}

Var MultiHeadAttention::cross_attention(const Var& x, const KeysValues& memory, const Tensor& key_mask,
                                        bool training, Rng& rng, Var* weights) const {
  if (kind_ != Kind::Cross) throw Error("MultiHeadAttention: cross_attention on a self-attention module");
  Var q = split_heads(linear(x, w_in_, b_in_), heads_);
  return attend(q, memory, key_mask, false, training, rng, weights);
}

}  // namespace nmt
