#include "ops/linear_packed.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "core/context.h"
#include "core/error.h"
#include "ops/dnnl_util.h"
#include "ops/flops.h"
#include "ops/linear.h"

namespace nmt {

namespace {

using dnnl::memory;

struct PackedLinearPrim {
  memory::desc x, w_plain, w_packed, bias, y;
  dnnl::matmul product;
};

// The matmul for [rows, in] x [in, out] with weights in the layout oneDNN picks.
PackedLinearPrim& prim(int64_t rows, int64_t in, int64_t out, bool bias) {
  auto& ctx = Context::get();
  const std::string key = cat("linear-packed|", rows, "|", in, "|", out, "|", bias);
  return ctx.cached<PackedLinearPrim>(key, [&] {
    return dnnl_build(cat("linear_packed x [", rows, ", ", in, "] W [", out, ", ", in, "]"), [&] {
      PackedLinearPrim p;
      p.x = plain_md({rows, in});
      p.y = plain_md({rows, out});
      p.w_plain = strided_md({in, out}, {1, in});  // W^T of a row-major [out, in]
      const memory::desc w_any({in, out}, memory::data_type::f32, memory::format_tag::any);
      dnnl::matmul::primitive_desc pd;
      if (bias) {
        p.bias = plain_md({1, out});
        pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.x, w_any, p.bias, p.y), nmt_attr(), ctx.engine());
      } else {
        pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.x, w_any, p.y), nmt_attr(), ctx.engine());
      }
      p.w_packed = pd.weights_desc();
      p.product = dnnl::matmul(pd);
      return p;
    });
  });
}

// Translation workers (translate/translator.h) look weights up from several threads.
struct PackedRegistry {
  std::mutex mu;
  int depth = 0;
  std::unordered_map<const float*, ParamLayouts> weights;  // by the weights' address
};
PackedRegistry& registry() {
  static PackedRegistry r;
  return r;
}

// `w` in layout p.w_packed, reordered on first request.
memory packed_weights(const Tensor& w, const PackedLinearPrim& p) {
  PackedRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.weights.try_emplace(w.data(), w, p.w_plain).first->second.get(p.w_packed);
}

}  // namespace

PackedScope::PackedScope() {
  PackedRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  ++r.depth;
}

PackedScope::~PackedScope() {
  PackedRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (--r.depth == 0) r.weights.clear();
}

bool packed_scope_active() {
  PackedRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.depth > 0;
}

int64_t packed_weights_held() {
  PackedRegistry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  int64_t n = 0;
  for (const auto& [w, layouts] : r.weights) n += static_cast<int64_t>(layouts.copies());
  return n;
}

void linear_packed_forward(const Tensor& x, const Tensor& w, const Tensor* b, Tensor& y) {
  if (!packed_scope_active()) throw Error("linear_packed_forward: no PackedScope is alive");
  const Shape ys = linear_shape(x, w, b);
  if (y.shape() != ys)
    throw Error(cat("linear_packed: output has shape ", shape_str(y.shape()), ", expected ", shape_str(ys)));
  const int64_t in = w.dim(1), out = w.dim(0), rows = in > 0 ? x.numel() / in : 0;
  if (rows == 0 || out == 0 || in == 0) {  // oneDNN takes no empty products
    linear_forward(x, w, b, y);
    return;
  }
  count_matmul(rows, out, in);
  PackedLinearPrim& p = prim(rows, in, out, b != nullptr);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, as_memory(x, p.x)}, {DNNL_ARG_WEIGHTS, packed_weights(w, p)}, {DNNL_ARG_DST, as_memory(y, p.y)}};
  if (b) args.emplace(DNNL_ARG_BIAS, as_memory(*b, p.bias));
  dnnl_execute(p.product, args);
}

}  // namespace nmt
