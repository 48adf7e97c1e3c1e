// What every encoder takes and gives: a padded batch of source ids in, a batch-major
// sequence of states (zero at padding) plus what a bottleneck decoder starts from out.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/graph.h"
#include "core/random.h"

namespace nmt {

// Source sentences of one batch, padded with id 0 to the longest. Each sentence
// already ends with </s>.
struct SourceBatch {
  int64_t batch = 0;         // N
  int64_t length = 0;        // S, the longest sentence
  std::vector<int32_t> ids;  // [N, S] batch-major
  std::vector<int> lengths;  // N real lengths, 1..S

  static SourceBatch from(const std::vector<std::vector<int32_t>>& sentences);
  // [N, S]: 1 at real tokens, 0 at padding.
  Tensor mask() const;
  // ids in time-major order [S, N] (what the RNN layers read).
  std::vector<int32_t> time_major_ids() const;
};

struct EncoderOutput {
  Var states;   // [N, S, C], zero at padding
  Tensor mask;  // [N, S]
  std::vector<int> lengths;
  // Per encoder layer, the final state(s) of each direction: [D, N, H] (RNN encoders only).
  std::vector<Var> final_h, final_c;
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual EncoderOutput encode(const SourceBatch& src, bool training, Rng& rng) = 0;
  virtual int64_t output_dim() const = 0;
};

}  // namespace nmt
