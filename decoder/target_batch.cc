#include <algorithm>

#include "decoder/decoder.h"

#include "core/error.h"
#include "ops/cross_entropy.h"

namespace nmt {
namespace {
constexpr int32_t kBos = 2, kEos = 3;
}

TargetBatch TargetBatch::from(const std::vector<std::vector<int32_t>>& sentences) {
  TargetBatch b;
  b.batch = static_cast<int64_t>(sentences.size());
  for (const auto& s : sentences) b.length = std::max<int64_t>(b.length, static_cast<int64_t>(s.size()) + 1);
  b.input.assign(b.batch * b.length, 0);
  b.output.assign(b.batch * b.length, 0);
  for (int64_t n = 0; n < b.batch; ++n) {
    const auto& s = sentences[n];
    int32_t* in = b.input.data() + n * b.length;
    int32_t* out = b.output.data() + n * b.length;
    in[0] = kBos;
    for (size_t i = 0; i < s.size(); ++i) {
      in[i + 1] = s[i];
      out[i] = s[i];
    }
    out[s.size()] = kEos;
    b.lengths.push_back(static_cast<int>(s.size()) + 1);
    b.tokens += static_cast<int64_t>(s.size()) + 1;
  }
  return b;
}

Var Decoder::token_losses(const EncoderOutput& enc, const TargetBatch& trg, float label_smoothing, bool training,
                          Rng& rng) {
  if (trg.twin_kl > 0) throw Error("this decoder's loss has no R-Drop term (twin_kl)");
  return cross_entropy(forward(enc, trg, training, rng), trg.output, label_smoothing, 0);
}

std::vector<int32_t> TargetBatch::time_major_input() const {
  std::vector<int32_t> out(input.size());
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t t = 0; t < length; ++t) out[t * batch + n] = input[n * length + t];
  return out;
}

}  // namespace nmt
