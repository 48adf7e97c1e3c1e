// What every decoder offers: a teacher-forced pass over whole target sentences
// (training, scoring) and an incremental step (greedy and beam search).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/graph.h"
#include "core/random.h"
#include "encoder/encoder.h"
#include "layers/output_layer.h"

namespace nmt {

// Target sentences of one batch: input = <s> y1..yn, output = y1..yn </s>, padded with 0.
struct TargetBatch {
  int64_t batch = 0;            // N
  int64_t length = 0;           // T = longest sentence + 1
  std::vector<int32_t> input;   // [N, T] batch-major
  std::vector<int32_t> output;  // [N, T] batch-major
  std::vector<int> lengths;     // N, each = len(y) + 1
  int64_t tokens = 0;           // sum of lengths (what the loss is averaged over)
  // R-Drop: > 0 when the second half of the sentences repeats the first, the weight of the
  // consistency term between each position and its twin (ops/linear_cross_entropy.h).
  float twin_kl = 0;

  // `sentences` are the target ids without <s> and </s>.
  static TargetBatch from(const std::vector<std::vector<int32_t>>& sentences);
  std::vector<int32_t> time_major_input() const;  // [T, N]
};

// Per-sentence decoding state (one row per hypothesis).
class DecoderState {
 public:
  virtual ~DecoderState() = default;
  // Keeps rows `rows` of the state in that order (rows may repeat): beam search
  // duplicates, reorders and drops hypotheses with it.
  virtual void select(const std::vector<int32_t>& rows) = 0;
  // Attention weights of the last step, [rows, S]; empty when the model has none.
  virtual Tensor last_attention() const { return Tensor(); }
  // When set, step() gives logits of these vocabulary entries only, [rows, |ids|] (a shortlist).
  std::shared_ptr<const OutputSlice> output_slice;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Teacher forcing: logits [N * T, V], rows in batch-major order (n * T + t).
  virtual Var forward(const EncoderOutput& enc, const TargetBatch& trg, bool training, Rng& rng) = 0;
  // Label-smoothed cross-entropy of every target position, [N * T] batch-major, 0 at
  // padding. The default computes forward()'s logits, then the loss; decoders may fuse
  // the output layer with the loss to hold fewer [N * T, V] buffers.
  virtual Var token_losses(const EncoderOutput& enc, const TargetBatch& trg, float label_smoothing, bool training,
                           Rng& rng);
  // Starts decoding: one state row per source sentence of `enc`.
  virtual std::unique_ptr<DecoderState> start(const EncoderOutput& enc) = 0;
  // Rows `ids` of the output layer, for DecoderState::output_slice.
  virtual std::shared_ptr<const OutputSlice> output_slice(const std::vector<int32_t>& ids) const = 0;
  // One step: feeds the previous token of each row, returns logits [rows, V] (or
  // [rows, |ids|] of the state's output slice).
  virtual Var step(DecoderState& state, const std::vector<int32_t>& previous) = 0;
  // Whether the decoder attends over the source (alignments exist).
  virtual bool has_attention() const = 0;
};

}  // namespace nmt
