#include <algorithm>

#include "core/error.h"
#include "encoder/encoder.h"

namespace nmt {

SourceBatch SourceBatch::from(const std::vector<std::vector<int32_t>>& sentences) {
  SourceBatch b;
  b.batch = static_cast<int64_t>(sentences.size());
  for (const auto& s : sentences) {
    if (s.empty()) throw Error("SourceBatch: empty sentence (every source ends with </s>)");
    b.length = std::max<int64_t>(b.length, static_cast<int64_t>(s.size()));
  }
  b.ids.assign(b.batch * b.length, 0);
  for (int64_t n = 0; n < b.batch; ++n) {
    std::copy(sentences[n].begin(), sentences[n].end(), b.ids.begin() + n * b.length);
    b.lengths.push_back(static_cast<int>(sentences[n].size()));
  }
  return b;
}

Tensor SourceBatch::mask() const {
  Tensor m = Tensor::zeros({batch, length});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t s = 0; s < lengths[n]; ++s) m[n * length + s] = 1.0f;
  return m;
}

std::vector<int32_t> SourceBatch::time_major_ids() const {
  std::vector<int32_t> out(ids.size());
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t s = 0; s < length; ++s) out[s * batch + n] = ids[n * length + s];
  return out;
}

}  // namespace nmt
