#include "ops/linear_int8.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/context.h"
#include "core/error.h"
#include "ops/dnnl_util.h"
#include "ops/flops.h"
#include "ops/linear.h"

namespace nmt {

namespace {

using dnnl::memory;
using dt = memory::data_type;

struct Int8LinearPrims {
  memory::desc x, xq, wq, y, row_scales, bias;
  dnnl::reorder quantize;
  dnnl::matmul product;
  dnnl::binary rescale;  // y *= xs (per row), then + b
};

// Max |v| of each row of [rows, cols], as the scale that maps it to `levels`.
void row_scales(const float* v, int64_t rows, int64_t cols, int levels, float* scales) {
#pragma omp parallel for if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    float m = 0.f;
    const float* p = v + r * cols;
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < cols; ++c) m = std::fabs(p[c]) > m ? std::fabs(p[c]) : m;  // vectorised; std::max is not
    scales[r] = m > 0.f ? m / static_cast<float>(levels) : 1.f;
  }
}

Int8LinearPrims& prims(int64_t rows, int64_t in, int64_t out, bool bias) {
  auto& ctx = Context::get();
  const std::string key = cat("linear_int8|", rows, "|", in, "|", out, "|", bias);
  return ctx.cached<Int8LinearPrims>(key, [&] {
    return dnnl_build(cat("linear_int8 [", rows, ", ", in, "] by [", out, ", ", in, "]"), [&] {
      Int8LinearPrims p;
      auto& eng = ctx.engine();
      p.x = plain_md({rows, in});
      p.xq = memory::desc({rows, in}, dt::s8, memory::format_tag::ab);
      p.wq = memory::desc({in, out}, dt::s8, memory::format_tag::ba);  // stored [out, in]
      p.y = plain_md({rows, out});
      p.row_scales = plain_md({rows, 1});
      dnnl::primitive_attr qa = nmt_attr();
      qa.set_output_scales(1 << 0, {DNNL_RUNTIME_F32_VAL});
      p.quantize = dnnl::reorder(dnnl::reorder::primitive_desc(eng, p.x, eng, p.xq, qa));
      dnnl::primitive_attr ma = nmt_attr();
      ma.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
      p.product = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.xq, p.wq, p.y), ma, eng));
      dnnl::primitive_attr ba = nmt_attr();
      if (bias) {
        p.bias = plain_md({1, out});
        dnnl::post_ops ops;
        ops.append_binary(dnnl::algorithm::binary_add, p.bias);
        ba.set_post_ops(ops);
      }
      p.rescale = dnnl::binary(dnnl::binary::primitive_desc(
          dnnl::binary::desc(dnnl::algorithm::binary_mul, p.y, p.row_scales, p.y), ba, eng));
      return p;
    });
  });
}

// Translation workers (translate/translator.h) look weights up from several threads.
struct Int8Registry {
  std::mutex mu;
  int depth = 0;
  std::map<std::pair<const void*, int>, std::unique_ptr<Int8Weights>> weights;  // by (key, kind)
};
Int8Registry& registry() {
  static Int8Registry r;
  return r;
}

}  // namespace

int int8_weight_levels() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core_vnni:
    case isa::avx512_core_bf16:
    case isa::avx512_core_amx:
    case isa::avx2_vnni:
      return 127;
    default:
      return 63;
  }
}

Int8Weights quantize_weights(const Tensor& w, int levels) {
  if (w.rank() != 2) throw Error(cat("quantize_weights: W must be [out, in], got ", shape_str(w.shape())));
  if (levels == 0) levels = int8_weight_levels();
  if (levels < 1 || levels > 127) throw Error(cat("quantize_weights: levels must be in 1..127, got ", levels));
  Int8Weights q;
  q.levels = levels;
  q.out = w.dim(0);
  q.in = w.dim(1);
  q.scales.resize(q.out);
  q.q.resize(q.out * q.in);
  row_scales(w.data(), q.out, q.in, levels, q.scales.data());
  auto& ctx = Context::get();
  std::vector<float> inverse(q.out);
  for (int64_t j = 0; j < q.out; ++j) inverse[j] = 1.f / q.scales[j];
  // One-off, so built here and not cached: f32 [out, in] -> s8 [out, in], scaled per row.
  const memory::desc src = plain_md({q.out, q.in}), dst({q.out, q.in}, dt::s8, memory::format_tag::ab);
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 0, inverse);
  dnnl_build(cat("quantize_weights ", shape_str(w.shape())), [&] {
    memory from = as_memory(w, src), to(dst, ctx.engine(), q.q.data());
    dnnl::reorder(dnnl::reorder::primitive_desc(ctx.engine(), src, ctx.engine(), dst, attr))
        .execute(ctx.stream(), from, to);
    ctx.stream().wait();
    return 0;
  });
  return q;
}

void linear_int8_forward(const Tensor& x, const Int8Weights& w, const Tensor* b, Tensor& y) {
  if (x.rank() < 1 || x.dim(-1) != w.in || (b && (b->rank() != 1 || b->dim(0) != w.out)))
    throw Error(cat("linear_int8: x ", shape_str(x.shape()), ", W [", w.out, ", ", w.in, "], b ",
                    b ? shape_str(b->shape()) : std::string("none"), " do not fit (need x [..., in], b [out])"));
  Shape ys = x.shape();
  ys.back() = w.out;
  if (y.shape() != ys)
    throw Error(cat("linear_int8: output has shape ", shape_str(y.shape()), ", expected ", shape_str(ys)));
  const int64_t rows = x.numel() / std::max<int64_t>(w.in, 1);
  if (rows == 0 || w.out == 0) return;
  if (w.in == 0) {  // an empty reduction: y = b
    for (int64_t i = 0; i < y.numel(); ++i) y[i] = b ? (*b)[i % w.out] : 0.f;
    return;
  }
  count_matmul(rows, w.out, w.in);
  Int8LinearPrims& p = prims(rows, w.in, w.out, b != nullptr);
  // Scratch reused across calls: decoding makes thousands of small ones.
  thread_local std::vector<float> xs, inverse;
  thread_local std::vector<int8_t> xq;
  xs.resize(rows);
  inverse.resize(rows);
  xq.resize(rows * w.in);
  row_scales(x.data(), rows, w.in, 127, xs.data());
  for (int64_t i = 0; i < rows; ++i) inverse[i] = 1.f / xs[i];
  auto& eng = Context::get().engine();
  const memory inv_m(plain_md({rows}), eng, inverse.data());
  const memory w_scales(plain_md({w.out}), eng, const_cast<float*>(w.scales.data()));
  const memory xq_m(p.xq, eng, xq.data()), y_m(p.y, eng, y.data());
  dnnl_execute(p.quantize,
               {{DNNL_ARG_FROM, as_memory(x, p.x)}, {DNNL_ARG_TO, xq_m}, {DNNL_ARG_ATTR_OUTPUT_SCALES, inv_m}});
  dnnl_execute(p.product, {{DNNL_ARG_SRC, xq_m},
                           {DNNL_ARG_WEIGHTS, memory(p.wq, eng, const_cast<int8_t*>(w.q.data()))},
                           {DNNL_ARG_DST, y_m},
                           {DNNL_ARG_ATTR_OUTPUT_SCALES, w_scales}});
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_0, y_m}, {DNNL_ARG_SRC_1, memory(p.row_scales, eng, xs.data())}, {DNNL_ARG_DST, y_m}};
  if (b) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, as_memory(*b, p.bias));
  dnnl_execute(p.rescale, args);
}

Int8Scope::Int8Scope() {
  Int8Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  ++r.depth;
}

Int8Scope::~Int8Scope() {
  Int8Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (--r.depth == 0) r.weights.clear();
}

const Int8Weights* int8_weights_in_scope(const void* key, int kind, const std::function<Tensor()>& make) {
  Int8Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.depth == 0) return nullptr;
  auto it = r.weights.find({key, kind});
  if (it == r.weights.end())
    it = r.weights.emplace(std::make_pair(key, kind), std::make_unique<Int8Weights>(quantize_weights(make()))).first;
  return it->second.get();
}

const Int8Weights* int8_weights_in_scope(const Tensor& w) {
  return int8_weights_in_scope(w.data(), 0, [&] { return w; });
}

bool int8_scope_active() {
  Int8Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.depth > 0;
}

}  // namespace nmt
