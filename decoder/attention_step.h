// Incremental decoding with multi-head attention (layers/multi_head_attention.h): one
// position at a time, for greedy and beam search. Self-attention keeps the keys and values
// of the positions decoded so far in a KeyValueCache; cross-attention queries the source's
// keys and values, computed once per batch, with the rows grouped by sentence
// (QueryGroups, decoder/sentence_rows.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"
#include "decoder/sentence_rows.h"
#include "layers/multi_head_attention.h"

namespace nmt {

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

// One decoding step of causal self-attention: x [R, 1, d] is the position after the cached
// ones; its keys and values are appended to `cache` (empty at the first step). Equals row t
// of att.self_attention(causal) over the whole prefix. Records no gradient: Error if the
// tape would record one.
Var self_attention_step(const MultiHeadAttention& att, const Var& x, KeyValueCache& cache);

// One decoding step of cross-attention: x [R, 1, d] rows grouped by `groups` attend over
// memory [groups, H, S, dh] (key_mask [groups, S] or empty). Equals att.cross_attention() of
// each row over its group's memory. *weights (if asked) gets the weights [R, H, 1, S].
// Records no gradient: Error if the tape would record one.
Var cross_attention_step(const MultiHeadAttention& att, const Var& x, const KeysValues& memory, const Tensor& key_mask,
                         const QueryGroups& groups, Var* weights = nullptr);

}  // namespace nmt
