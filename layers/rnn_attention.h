// Cross-attention of decoder states over encoder states, Luong-style: queried with the
// decoder RNN's output, after the RNN, so training runs the decoder RNN as one fused
// sequence primitive and attends for all target positions in one batched matmul.
//
//   dot:     score(q, k) = q . k                       (needs dim_query == dim_key)
//   general: score(q, k) = q . (W k)                   (Luong "general")
//   mlp:     score(q, k) = v . tanh(Wq q + bq + Wk k)  (Bahdanau additive, dimension dim_att)
// Padding keys are masked before the softmax; the context is the weighted sum of keys.
#pragma once

#include <string>

#include "core/params.h"

namespace nmt {

enum class AttentionKind { Dot, General, Mlp };
// The attention option: dot, general or mlp; OptionError otherwise.
AttentionKind parse_attention_kind(const std::string& name);

class Attention {
 public:
  Attention(ParamStore& params, const std::string& prefix, AttentionKind kind, int64_t dim_query, int64_t dim_key,
            int64_t dim_att);

  // What the scores compare queries against, computed once per source batch: [N, S, *].
  Var project_keys(const Var& keys) const;
  // query [N, T, dim_query], projected keys, values = encoder states [N, S, dim_key],
  // mask [N, S] -> context [N, T, dim_key]; the weights [N, T, S] go to *weights if asked.
  Var context(const Var& query, const Var& projected_keys, const Var& values, const Tensor& mask,
              Var* weights = nullptr) const;

 private:
  AttentionKind kind_;
  Var w_key_, w_query_, b_query_, v_;
};

}  // namespace nmt
