#include "layers/multi_head_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "ops/dropout.h"
#include "ops/linear.h"
#include "ops/mask.h"
#include "ops/matmul.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"

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

Var MultiHeadAttention::attend(const Var& q, const KeysValues& kv, const Tensor& key_mask, bool causal, bool training,
                               Rng& rng, Var* weights) const {
  Var ctx = scaled_dot_product_attention(q, kv.k, kv.v, key_mask, causal, dropout_, training, rng, weights);
  return linear(merge_heads(ctx), w_out_, b_out_);
}

Var MultiHeadAttention::self_attention(const Var& x, const Tensor& key_mask, bool causal, bool training,
                                       Rng& rng) const {
  if (kind_ != Kind::Self) throw Error("MultiHeadAttention: self_attention on a cross-attention module");
  std::vector<Var> qkv = split_fused_heads(linear(x, w_in_, b_in_), 3, heads_);
  return attend(qkv[0], {qkv[1], qkv[2]}, key_mask, causal, training, rng, nullptr);
}

Var MultiHeadAttention::project_in(const Var& x) const { return linear(x, w_in_, b_in_); }

Var MultiHeadAttention::project_out(const Var& context) const { return linear(context, w_out_, b_out_); }

bool MultiHeadAttention::records_gradient(const Var& x) const {
  return Tape::current().recording({&x, &w_in_, &b_in_, &w_out_, &b_out_});
}

KeysValues MultiHeadAttention::memory_keys_values(const Var& memory) const {
  if (kind_ != Kind::Cross) throw Error("MultiHeadAttention: memory_keys_values on a self-attention module");
  if (memory->value.rank() != 3 || memory->value.dim(2) != dim_)
    throw Error(cat("MultiHeadAttention: memory must be [N, S, ", dim_, "], got ", shape_str(memory->value.shape())));
  std::vector<Var> kv = split_fused_heads(linear(memory, w_kv_, b_kv_), 2, heads_);
  return {kv[0], kv[1]};
}

Var MultiHeadAttention::cross_attention(const Var& x, const KeysValues& memory, const Tensor& key_mask, bool training,
                                        Rng& rng, Var* weights) const {
  if (kind_ != Kind::Cross) throw Error("MultiHeadAttention: cross_attention on a self-attention module");
  Var q = split_heads(linear(x, w_in_, b_in_), heads_);
  return attend(q, memory, key_mask, false, training, rng, weights);
}

}  // namespace nmt
