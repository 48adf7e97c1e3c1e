#include "ops/embedding.h"

#include "core/error.h"
#include "ops/checks.h"
#include "ops/shape_ops.h"

namespace nmt {

namespace {
void check_embedding(const Tensor& table, const std::vector<int32_t>& ids, const Shape& out_shape) {
  check_rank("embedding", table, 2, "table");
  if (numel(out_shape) != static_cast<int64_t>(ids.size()))
    throw Error(cat("embedding: ", ids.size(), " ids for output shape ", shape_str(out_shape)));
  const int64_t v = table.dim(0);
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= v)
      throw Error(
          cat("embedding: id ", ids[i], " at position ", i, " out of range for table ", shape_str(table.shape())));
}
}  // namespace

// The table is a [V, E] tensor and the output an [n, E] one: a gather along axis 0.
void embedding_forward(const Tensor& table, const std::vector<int32_t>& ids, Tensor& out) {
  Tensor rows = out.reshape({static_cast<int64_t>(ids.size()), table.dim(1)});
  index_select_forward(table, 0, ids, rows);
}

void embedding_backward(const Tensor& dout, const std::vector<int32_t>& ids, Tensor& dtable) {
  Tensor rows = dout.reshape({static_cast<int64_t>(ids.size()), dtable.dim(1)});
  index_select_backward(rows, 0, ids, dtable);
}

Var embedding(const Var& table, const std::vector<int32_t>& ids, const Shape& out_shape) {
  check_embedding(table->value, ids, out_shape);
  Shape s = out_shape;
  s.push_back(table->value.dim(1));
  Var c = result(Tensor(s), {&table});
  embedding_forward(table->value, ids, c->value);
  if (c->requires_grad) {
    Tape::current().push([table = table.node(), c = c.node(), ids] {
      if (c->grad.empty()) return;
      embedding_backward(c->grad, ids, table->grad_buffer());
    });
  }
  return c;
}

}  // namespace nmt
