#include "layers/rnn_attention.h"

#include <cmath>

#include "core/error.h"
#include "ops/eltwise.h"
#include "ops/linear.h"
#include "ops/mask.h"
#include "ops/matmul.h"
#include "ops/pairwise_add.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"

namespace nmt {

AttentionKind parse_attention_kind(const std::string& name) {
  if (name == "dot") return AttentionKind::Dot;
  if (name == "general") return AttentionKind::General;
  if (name == "mlp") return AttentionKind::Mlp;
  throw OptionError(cat("attention must be dot, general or mlp, got '", name, "'"));
}

Attention::Attention(ParamStore& params, const std::string& prefix, AttentionKind kind, int64_t dim_query,
                     int64_t dim_key, int64_t dim_att)
    : kind_(kind) {
  auto uniform = [](int64_t fan_in) { return Init{Init::Uniform, 1.0f / std::sqrt(static_cast<float>(fan_in))}; };
  switch (kind) {
    case AttentionKind::Dot:
      if (dim_query != dim_key)
        throw InputError(cat("dot attention needs equal decoder and encoder state sizes, got ", dim_query, " and ",
                             dim_key, " (use attention general or mlp)"));
      break;
    case AttentionKind::General:
      w_key_ = params.add(prefix + ".w_key", {dim_query, dim_key}, uniform(dim_key));
      break;
    case AttentionKind::Mlp:
      w_key_ = params.add(prefix + ".w_key", {dim_att, dim_key}, uniform(dim_key));
      w_query_ = params.add(prefix + ".w_query", {dim_att, dim_query}, uniform(dim_query));
      b_query_ = params.add(prefix + ".b_query", {dim_att}, Init{Init::Zeros, 0});
      v_ = params.add(prefix + ".v", {1, dim_att}, uniform(dim_att));
      break;
  }
}

Var Attention::project_keys(const Var& keys) const {
  return kind_ == AttentionKind::Dot ? keys : linear(keys, w_key_, nullptr);
}

Var Attention::context(const Var& query, const Var& projected_keys, const Var& values, const Tensor& mask,
                       Var* weights) const {
  const int64_t N = query->value.dim(0), T = query->value.dim(1), S = values->value.dim(1);
  Var scores;  // [N, T, S]
  if (kind_ == AttentionKind::Mlp) {
    Var q = linear(query, w_query_, b_query_);                           // [N, T, A]
    Var e = linear(tanh(pairwise_add(q, projected_keys)), v_, nullptr);  // [N, T, S, 1]
    scores = reshape(e, {N, T, S});
  } else {
    scores = matmul(query, projected_keys, false, true);  // [N, T, S]
  }
  Var masked = mask_scores(reshape(scores, {N, 1, T, S}), mask, false);
  Var a = reshape(softmax(masked), {N, T, S});
  if (weights) *weights = a;
  return matmul(a, values);  // [N, T, C]
}

}  // namespace nmt
