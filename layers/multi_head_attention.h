// Multi-head scaled dot-product attention (Vaswani et al. 2017), shared by the
// Transformer encoder (self-attention) and decoder (causal self-attention and
// cross-attention over the encoder states).
//
//   head_h = softmax(mask(Q_h K_h^T / sqrt(dh))) V_h,   out = [head_1 .. head_H] Wo^T + bo
//
// Heads are a batch axis: [N, T, d] is viewed as [N, T, H, dh] and transposed to
// [N, H, T, dh] once, and both products (scores, context) are ONE batched oneDNN matmul
// over N x H; nothing loops over heads or sentences. Self-attention projects Q, K, V
// with one fused [3d, d] weight (torch's in_proj layout); cross-attention projects Q
// with [d, d] and K, V with one fused [2d, d] weight, once per source batch.
// Init as torch.nn.MultiheadAttention: in-projections Xavier-uniform over [3d, d] with
// zero biases, the output projection U(+-1/sqrt(d)) with a zero bias.
#pragma once

#include <string>

#include "core/graph.h"
#include "core/random.h"
#include "layers/transformer_blocks.h"

namespace nmt {

// x [N, T, H * dh] -> [N, H, T, dh]
Var split_heads(const Var& x, int heads);
// [N, H, T, dh] -> [N, T, H * dh]
Var merge_heads(const Var& x);

// softmax(mask(q k^T / sqrt(dh))) v, q [N, H, Tq, dh], k and v [N, H, Tk, dh] -> [N, H, Tq, dh].
// key_mask [N, Tk] (1 = real key; empty: none) and causal as in ops/mask.h. Dropout
// p on the attention weights when training. *weights (if asked) gets the weights
// [N, H, Tq, Tk] before dropout.
Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor& key_mask, bool causal,
                                 float dropout, bool training, Rng& rng, Var* weights = nullptr);

// Keys and values split into heads, [N, H, S, dh] each.
struct KeysValues {
  Var k, v;
};

class MultiHeadAttention {
 public:
  enum class Kind { Self, Cross };
  MultiHeadAttention() = default;
  MultiHeadAttention(const ParamMaker& param, const std::string& prefix, Kind kind, int64_t dim, int heads,
                     float dropout_attention);

  // Self-attention of x [N, T, d] over itself -> [N, T, d]. key_mask [N, T] or empty.
  Var self_attention(const Var& x, const Tensor& key_mask, bool causal, bool training, Rng& rng) const;
  // Cross-attention: the keys and values of `memory` [N, S, d], computed once per batch.
  KeysValues memory_keys_values(const Var& memory) const;
  // x [N, T, d] attends over the memory; key_mask [N, S] masks its padding.
  Var cross_attention(const Var& x, const KeysValues& memory, const Tensor& key_mask, bool training, Rng& rng,
                      Var* weights = nullptr) const;

  Kind kind() const { return kind_; }
  int heads() const { return heads_; }
  int64_t dim() const { return dim_; }

  // The pieces incremental decoding (decoder/attention_step.h) composes steps from: the
  // input projection (self: [.., 3d] = q, k, v; cross: the queries [.., d]) and the output
  // projection of the merged heads' context.
  Var project_in(const Var& x) const;
  Var project_out(const Var& context) const;
  // True when the tape would record a gradient for x or the weights (a step must not).
  bool records_gradient(const Var& x) const;

 private:
  Var attend(const Var& q, const KeysValues& kv, const Tensor& key_mask, bool causal, bool training, Rng& rng,
             Var* weights) const;

  Kind kind_ = Kind::Self;
  int64_t dim_ = 0;
  int heads_ = 1;
  float dropout_ = 0.f;
  Var w_in_, b_in_;    // self: [3d, d], [3d]; cross: the query part [d, d], [d]
  Var w_kv_, b_kv_;    // cross only: [2d, d], [2d]
  Var w_out_, b_out_;  // [d, d], [d]
};

}  // namespace nmt
