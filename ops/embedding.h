// Embedding lookup: rows of a table [V, E] selected by token ids. The gradient
// scatter-adds the output gradient rows back into the table rows (repeats add up).
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nmt {

// ---- kernels ----
// out viewed as [ids.size(), E]: out[i] = table[ids[i]] ; dtable[ids[i]] += dout[i]
void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, Tensor& out);
void embedding_backward(const Tensor& dout, const std::vector<int32_t>& ids, Tensor& dtable);

// ---- Var op ----
// Output shape is out_shape + [E]; numel(out_shape) must equal ids.size() and every id
// must be in [0, V).
Var embedding(const Var& table, const std::vector<int32_t>& ids, const Shape& out_shape);

}  // namespace nmt
