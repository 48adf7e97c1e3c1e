// One recurrent layer (Tanh RNN, LSTM or GRU; uni- or bidirectional) over a whole
// time-major sequence, run as oneDNN 2.6 RNN primitives, with gradients on the tape.
//
// Stacking is done by the caller, one rnn_layer call per layer: oneDNN's multi-layer
// primitive needs input width == hidden width.
//
// Cells (oneDNN's definitions; W = weights_layer, U = weights_iter, gate order as listed):
//   Tanh: h_t = tanh(W x_t + U h_{t-1} + b)
//   LSTM (gates i, f, c~, o):  i = sigm(W_i x + U_i h + b_i)  f = sigm(W_f x + U_f h + b_f)
//         c~ = tanh(W_c x + U_c h + b_c)  o = sigm(W_o x + U_o h + b_o)
//         c_t = f * c_{t-1} + i * c~      h_t = o * tanh(c_t)
//   GRU, linear-before-reset (cuDNN's variant; gates u, r, o; 4 bias rows u, r, o, o'):
//         u = sigm(W_u x + U_u h + b_u)   r = sigm(W_r x + U_r h + b_r)
//         o = tanh(W_o x + b_o + r * (U_o h + b_o'))   h_t = u * h_{t-1} + (1 - u) * o
// Bidirectional: the second direction reads the sentence from its last real token back
// to position 0; the two directions' outputs are concatenated on the last axis
// (forward first) and the states are stacked on the first axis (forward first).
//
// Lengths / padding invariance: oneDNN's RNN primitives have no per-sentence lengths, so
// rnn_layer groups the batch by length: the sentences of each distinct length L are
// gathered into a dense sub-batch of exactly L steps, run through the primitive, and
// scattered back. A sentence's results (and gradients) therefore do not depend on the
// other sentences or on padding: seq at t < len is what running it alone gives, seq at
// t >= len is zero, h_last / c_last are its states after its own last token (backward
// direction: after reaching position 0). Fast path: when every length is T (or lengths
// is empty) the whole batch is one primitive call without any gather.
//
// Weight layouts: parameters are stored in oneDNN's plain ldigo / ldgo layouts (without
// the layer axis). Primitives are cached per (cell, direction, T, N, I, H, training).
// For T > 1 oneDNN picks the weight layouts; a reorder is made (once per rnn_layer call
// or backward, shared by all length groups) only where it differs from the plain one, and
// weight gradients in another layout go through a zeroed scratch buffer and a summing
// reorder. Single steps (T = 1: decoding) ask for the plain layouts, so the forward reads
// the parameters in place (and a training backward writes the gradients in place; its
// weights are still reordered to oneDNN's backward layout, which has no plain option).
//
// Mixed precision: under a Bf16Scope (ops/bf16.h) on a CPU with native bfloat16
// (rnn_bf16_active(), ops/rnn_primitive.h) the primitives run in bfloat16 with fp32
// accumulation: inputs, hidden states and weights are rounded to bfloat16; the bias, the
// LSTM cell state and every gradient stay fp32, as do the Vars rnn_layer returns.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

enum class CellType { Tanh, LSTM, GRU };

const char* cell_name(CellType cell);

struct RnnLayerSpec {
  CellType cell;
  bool bidirectional;
  int64_t input_dim;
  int64_t hidden_dim;
};

// D = 2 if bidirectional else 1; G = gates (1 Tanh, 4 LSTM, 3 GRU); Gb = bias rows (G, 4 for GRU).
int64_t rnn_directions(const RnnLayerSpec& spec);
int64_t rnn_gates(CellType cell);
int64_t rnn_bias_gates(CellType cell);

// Parameter shapes: oneDNN's plain layouts without the layer axis.
Shape rnn_weights_layer_shape(const RnnLayerSpec& spec);  // [D, input_dim, G, H]  (ldigo)
Shape rnn_weights_iter_shape(const RnnLayerSpec& spec);   // [D, H, G, H]          (ldigo)
Shape rnn_bias_shape(const RnnLayerSpec& spec);           // [D, Gb, H]            (ldgo)

struct RnnOutput {
  Var seq;     // [T, N, D*H], directions concatenated on the last axis; zero at t >= length
  Var h_last;  // [D, N, H]
  Var c_last;  // [D, N, H] for LSTM, null otherwise
};

// x: [T, N, input_dim], time-major. lengths: N entries in 1..T, or empty (all have length T).
// h0: [D, N, H] or null (zeros). c0: [D, N, H] for LSTM or null (zeros); must be null otherwise.
// Gradients flow to every input that requires one, from any of seq, h_last, c_last.
// With the tape off (or nothing requiring a gradient) it runs oneDNN's inference primitive.
// Throws nmt::Error on bad shapes or lengths, with the shapes in the message.
RnnOutput rnn_layer(const RnnLayerSpec& spec, const Var& x, const std::vector<int>& lengths, const Var& w_layer,
                    const Var& w_iter, const Var& bias, const Var& h0, const Var& c0);

// Recomputation (activation checkpointing) of the rnn_layer calls made while a scope is
// alive on this thread (nmt train --rnn-recompute): their training forward runs oneDNN's
// inference primitive and keeps no workspace; their backward reruns the training forward of
// each length group to rebuild its workspace, uses it and frees it. oneDNN's training
// workspace holds ~10,000 floats per position of a 512-wide LSTM (80-160 MB per layer at
// 2,000 target tokens), and one of them is alive at a time instead of one per layer, at the
// cost of a second forward of every layer. The backward rebuilds at most max_positions
// (steps x sentences) at a time, cutting a large batch into sub-batches of sentences, which
// are independent in an RNN layer: workspace + backward scratchpad are ~80 MB for a
// 512-wide LSTM at 1,024 positions. Results equal those without the scope.
class RnnRecomputeScope {
 public:
  explicit RnnRecomputeScope(bool on, int64_t max_positions = 1024);
  ~RnnRecomputeScope();
  RnnRecomputeScope(const RnnRecomputeScope&) = delete;
  RnnRecomputeScope& operator=(const RnnRecomputeScope&) = delete;

 private:
  int64_t previous_;
};
bool rnn_recompute_active();

}  // namespace nmt
