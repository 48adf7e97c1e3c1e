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
#include "encoder/transformer_blocks.h"

namespace nmt {

// x [N, T, H * dh] -> [N, H, T, dh]
Var split_heads(const Var& x, int heads);
// [N, H, T, dh] -> [N, T, H * dh]
Var merge_heads(const Var& x);

// softmax(mask(q k^T / sqrt(dh))) v, q [N, H, Tq, dh], k and v [N, H, Tk, dh] -> [N, H, Tq, dh].
// key_mask [N, Tk] (1 = real key; empty: none) and causal as in core/ops/mask.h. Dropout
// p on the attention weights when training. *weights (if asked) gets the weights
// [N, H, Tq, Tk] before dropout.
Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor& key_mask, bool causal,
                                 float dropout, bool training, Rng& rng, Var* weights = nullptr);

// Keys and values split into heads, [N, H, S, dh] each.
struct KeysValues {
  Var k, v;
};

// The self-attention keys and values of the positions decoded so far, for incremental
// decoding: buffers [R, H, capacity, dh] whose first `steps` positions are filled. A step
// writes its keys and values in place, so it copies nothing of the earlier positions, and
// the capacity grows by 8 positions when full. The attention products of a step run over
// the whole capacity, the unfilled positions masked out (their values are kept zero): every batch of
// such a product is one dense matrix, which oneDNN's brgemm kernels need (a strided view of
// the filled positions falls back to a slower gemm per batch), and the products take one
// shape per capacity instead of one per step.
//
// Beam search reorders the rows at most steps. A selection copies the filled positions of the
// kept rows into a second pair of buffers kept for that purpose, which then become the
// current ones: no allocation (and no page faults) per step. In either pair, no position at
// or past `steps` has been written since the buffers were made (with zero values), so the
// unfilled values stay zero across selections.
class KeyValueCache {
 public:
  Tensor k, v;  // [R, H, capacity, dh]: the first R rows of the current buffers
  int64_t steps = 0;
  int64_t capacity() const { return k.empty() ? 0 : k.dim(2); }
  // Empty buffers of `rows` rows, `cap` positions (the unfilled values zero); steps = 0.
  void start(int64_t rows, int64_t heads, int64_t cap, int64_t dh);
  // Keeps rows `rows` in that order (beam search reorders and drops hypotheses); copies
  // only the filled positions, and nothing when `rows` is 0, 1, ... of the same count.
  void select(const std::vector<int32_t>& rows);
  // The same rows into new buffers of `cap` >= steps positions.
  void grow(int64_t cap);

 private:
  // Rows `rows` of the filled positions into the first rows.size() rows of buffers kb, vb.
  void copy_rows(const std::vector<int32_t>& rows, Tensor& kb, Tensor& vb) const;
  Tensor k_buffer_, v_buffer_, k_spare_, v_spare_;  // whole buffers; k, v view the first
};

// Decoding rows grouped by the memory (source sentence) they attend over: row r is query
// slot[r] of group group[r]; `groups` memories, at most `slots` rows each. Beam search has
// up to a beam's worth of rows per sentence: grouped, their cross-attention reads each
// sentence's keys and values once, as one [slots, dh] x [dh, S] product per head, where
// row by row it read them once per row (from copies, one per row).
struct QueryGroups {
  std::vector<int32_t> group, slot;  // per row
  int64_t groups = 0, slots = 0;
  // True when row r is group r, slot 0, for every row.
  bool rows_in_order() const;
  // Rows [R, ..., D] (D floats each after the first axis) -> [groups, slots, D]; empty slots
  // zero. When rows_in_order(), the same storage, reshaped.
  Tensor to_groups(const Tensor& rows) const;
  // Grouped [groups, slots, ..., D] -> rows [R, D]: each row's slot. When rows_in_order(),
  // the same storage, reshaped.
  Tensor to_rows(const Tensor& grouped) const;
};

class MultiHeadAttention {
 public:
  enum class Kind { Self, Cross };
  MultiHeadAttention() = default;
  MultiHeadAttention(const ParamMaker& param, const std::string& prefix, Kind kind, int64_t dim, int heads,
                     float dropout_attention);

  // Self-attention of x [N, T, d] over itself -> [N, T, d]. key_mask [N, T] or empty.
  Var self_attention(const Var& x, const Tensor& key_mask, bool causal, bool training, Rng& rng) const;
  // One decoding step of causal self-attention: x [R, 1, d] is the position after the
  // cached ones; its keys and values are appended to `cache` (empty at the first step).
  // Equals row t of self_attention(causal) over the whole prefix. Records no gradient:
  // Error if the tape would record one.
  Var self_attention_step(const Var& x, KeyValueCache& cache) const;

  // One decoding step of cross-attention: x [R, 1, d] rows grouped by `groups` attend over
  // memory [groups, H, S, dh] (key_mask [groups, S] or empty). Equals cross_attention() of
  // each row over its group's memory. *weights (if asked) gets the weights [R, H, 1, S].
  // Records no gradient: Error if the tape would record one.
  Var cross_attention_step(const Var& x, const KeysValues& memory, const Tensor& key_mask, const QueryGroups& groups,
                           Var* weights = nullptr) const;

  // Cross-attention: the keys and values of `memory` [N, S, d], computed once per batch.
  KeysValues memory_keys_values(const Var& memory) const;
  // x [N, T, d] attends over the memory; key_mask [N, S] masks its padding.
  Var cross_attention(const Var& x, const KeysValues& memory, const Tensor& key_mask, bool training, Rng& rng,
                      Var* weights = nullptr) const;

  Kind kind() const { return kind_; }
  int heads() const { return heads_; }

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
