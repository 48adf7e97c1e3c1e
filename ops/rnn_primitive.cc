#include "ops/rnn_primitive.h"

#include <string>
#include <unordered_map>

#include "core/context.h"
#include "core/error.h"
#include "ops/bf16.h"
#include "ops/flops.h"

namespace nmt {

namespace {

using dnnl::memory;
using md = dnnl::memory::desc;

using dt = dnnl::memory::data_type;

md any_md(const Shape& shape, dt type = dt::f32) {
  return md(memory::dims(shape.begin(), shape.end()), type, memory::format_tag::any);
}

// A plain descriptor's dimensions and strides in another number type.
md retyped(const md& m, dt type) {
  const auto& strides = m.data.format_desc.blocking.strides;
  return md(m.dims(), type, memory::dims(strides, strides + m.data.ndims));
}

// The C descriptor is plain data: its bytes identify a layout exactly.
std::string md_key(const md& m) { return std::string(reinterpret_cast<const char*>(&m.data), sizeof(m.data)); }

std::string mode_name(RnnMode mode) {
  return cat(mode.training ? "train" : "infer", mode.plain_weights ? "-plain" : "", mode.bf16 ? "-bf16" : "");
}

// Everything a descriptor needs, for one (spec, T, N, mode). The data descriptors are of
// the mode's type (bf16 or f32); bias, cell state and all diff descriptors are f32.
struct RnnDescs {
  dnnl::rnn_direction dir;
  md src, iter, iter_c, dst, bias;
  md diff_src, diff_iter, diff_dst;
  md w_layer, w_iter;          // forward weights: any, or plain
  md w_layer_any, w_iter_any;  // backward weights
  md dw_layer, dw_iter;        // diff weights: any, or plain
};

RnnPrimitives make_primitives(const RnnLayerSpec& spec, int64_t T, int64_t N, RnnMode mode) {
  const int64_t D = rnn_directions(spec), H = spec.hidden_dim, I = spec.input_dim, G = rnn_gates(spec.cell);
  const dt type = mode.bf16 ? dt::bf16 : dt::f32;
  RnnDescs d;
  d.dir = D == 2 ? dnnl::rnn_direction::bidirectional_concat : dnnl::rnn_direction::unidirectional_left2right;
  d.diff_src = plain_md({T, N, I});
  d.diff_iter = d.iter_c = plain_md({1, D, N, H});
  d.diff_dst = plain_md({T, N, D * H});
  d.src = retyped(d.diff_src, type);
  d.iter = retyped(d.diff_iter, type);
  d.dst = retyped(d.diff_dst, type);
  d.bias = rnn_bias_md(spec);
  d.w_layer_any = any_md({1, D, I, G, H}, type);
  d.w_iter_any = any_md({1, D, H, G, H}, type);
  d.w_layer = mode.plain_weights ? retyped(rnn_weights_layer_md(spec), type) : d.w_layer_any;
  d.w_iter = mode.plain_weights ? retyped(rnn_weights_iter_md(spec), type) : d.w_iter_any;
  d.dw_layer = mode.plain_weights ? rnn_weights_layer_md(spec) : any_md({1, D, I, G, H});
  d.dw_iter = mode.plain_weights ? rnn_weights_iter_md(spec) : any_md({1, D, H, G, H});
  const auto prop = mode.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  const auto back = dnnl::prop_kind::backward;
  auto& eng = Context::get().engine();
  // User-mode scratchpad, lent by dnnl_execute: in oneDNN's default mode the RNN's large
  // global scratchpad lived as long as any RNN primitive did.
  dnnl::primitive_attr attr = nmt_attr();

  RnnPrimitives p;
  switch (spec.cell) {
    case CellType::Tanh: {
      const auto act = dnnl::algorithm::eltwise_tanh;
      dnnl::vanilla_rnn_forward::primitive_desc fpd(
          {prop, act, d.dir, d.src, d.iter, d.w_layer, d.w_iter, d.bias, d.dst, d.iter}, attr, eng);
      p.fwd_pd = fpd;
      p.fwd = dnnl::vanilla_rnn_forward(fpd);
      if (mode.training) {
        dnnl::vanilla_rnn_backward::primitive_desc bpd(
            {back, act, d.dir, d.src, d.iter, d.w_layer_any, d.w_iter_any, d.bias, d.dst, d.iter, d.diff_src,
             d.diff_iter, d.dw_layer, d.dw_iter, d.bias, d.diff_dst, d.diff_iter},
            attr, eng, fpd);
        p.bwd_pd = bpd;
        p.bwd = dnnl::vanilla_rnn_backward(bpd);
      }
      break;
    }
    case CellType::LSTM: {
      dnnl::lstm_forward::primitive_desc fpd(
          {prop, d.dir, d.src, d.iter, d.iter_c, d.w_layer, d.w_iter, d.bias, d.dst, d.iter, d.iter_c}, attr, eng);
      p.fwd_pd = fpd;
      p.fwd = dnnl::lstm_forward(fpd);
      if (mode.training) {
        dnnl::lstm_backward::primitive_desc bpd(
            {back,       d.dir,     d.src,  d.iter,     d.iter_c,    d.w_layer_any, d.w_iter_any,
             d.bias,     d.dst,     d.iter, d.iter_c,   d.diff_src,  d.diff_iter,   d.diff_iter,
             d.dw_layer, d.dw_iter, d.bias, d.diff_dst, d.diff_iter, d.diff_iter},
            attr, eng, fpd);
        p.bwd_pd = bpd;
        p.bwd = dnnl::lstm_backward(bpd);
      }
      break;
    }
    case CellType::GRU: {
      dnnl::lbr_gru_forward::primitive_desc fpd(
          {prop, d.dir, d.src, d.iter, d.w_layer, d.w_iter, d.bias, d.dst, d.iter}, attr, eng);
      p.fwd_pd = fpd;
      p.fwd = dnnl::lbr_gru_forward(fpd);
      if (mode.training) {
        dnnl::lbr_gru_backward::primitive_desc bpd(
            {back, d.dir, d.src, d.iter, d.w_layer_any, d.w_iter_any, d.bias, d.dst, d.iter, d.diff_src, d.diff_iter,
             d.dw_layer, d.dw_iter, d.bias, d.diff_dst, d.diff_iter},
            attr, eng, fpd);
        p.bwd_pd = bpd;
        p.bwd = dnnl::lbr_gru_backward(bpd);
      }
      break;
    }
  }
  return p;
}

md query(const dnnl::primitive_desc& pd, int arg) { return pd.query_md(dnnl::query::exec_arg_md, arg); }

// A summing reorder (dst += src), cached by the pair of layouts.
void reorder_add(const memory& src, const memory& dst) {
  auto& ctx = Context::get();
  auto& prim = ctx.cached<dnnl::reorder>("rnn-reorder-add" + md_key(src.get_desc()) + md_key(dst.get_desc()), [&] {
    dnnl::post_ops ops;
    ops.append_sum(1.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    return dnnl::reorder(dnnl::reorder::primitive_desc(src, dst, attr));
  });
  prim.execute(ctx.stream(), const_cast<memory&>(src), const_cast<memory&>(dst));
  ctx.stream().wait();
}

}  // namespace

const RnnPrimitives& rnn_primitives(const RnnLayerSpec& spec, int64_t T, int64_t N, RnnMode mode) {
  const std::string key = cat("rnn/", cell_name(spec.cell), "/D", rnn_directions(spec), "/T", T, "/N", N, "/I",
                              spec.input_dim, "/H", spec.hidden_dim, "/", mode_name(mode));
  return Context::get().cached<RnnPrimitives>(key, [&] {
    try {
      return make_primitives(spec, T, N, mode);
    } catch (const dnnl::error& e) {
      throw Error(cat("rnn: cannot build the oneDNN primitives for ", key, ": ", e.what()));
    }
  });
}

md rnn_weights_layer_md(const RnnLayerSpec& spec) {
  Shape s = rnn_weights_layer_shape(spec);
  s.insert(s.begin(), 1);
  return plain_md(s);
}

md rnn_weights_iter_md(const RnnLayerSpec& spec) {
  Shape s = rnn_weights_iter_shape(spec);
  s.insert(s.begin(), 1);
  return plain_md(s);
}

md rnn_bias_md(const RnnLayerSpec& spec) {
  Shape s = rnn_bias_shape(spec);
  s.insert(s.begin(), 1);
  return plain_md(s);
}

memory RnnParamGrad::get(const md& want) {
  if (grad_ && want == plain_md_) return as_memory(*grad_, plain_md_);
  for (auto& [m, t] : scratch_)
    if (m == want) return as_memory(t, m);
  Tensor t = buffer_for(want);
  t.zero();  // oneDNN accumulates into it
  scratch_.emplace_back(want, t);
  return as_memory(t, want);
}

void RnnParamGrad::finish() {
  if (grad_)
    for (auto& [m, t] : scratch_) reorder_add(as_memory(t, m), as_memory(*grad_, plain_md_));
  scratch_.clear();
}

bool rnn_bf16_active() { return bf16_active() && bf16_support() == Bf16Support::native; }

namespace {

Tensor bf16_copy(const Tensor& t) { return convert_to_bf16(t.data(), t.numel()); }

// dst (fp32) = src (bfloat16), both plain with the dimensions of src_md.
void to_f32(const Tensor& src, const md& src_md, Tensor& dst) {
  reorder(as_memory(src, src_md), as_memory(dst, retyped(src_md, dt::f32)));
  Context::get().stream().wait();
}

// The data arguments both primitives read: in bf16 mode the bfloat16 copies.
std::unordered_map<int, memory> data_args(const dnnl::primitive_desc& pd, RnnMode mode, bool lstm, const RnnDenseIO& io,
                                          ParamLayouts& w_layer, ParamLayouts& w_iter, ParamLayouts& bias) {
  const bool b = mode.bf16;
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, as_memory(b ? io.x16 : io.x, query(pd, DNNL_ARG_SRC_LAYER))},
      {DNNL_ARG_SRC_ITER, as_memory(b ? io.h0_16 : io.h0, query(pd, DNNL_ARG_SRC_ITER))},
      {DNNL_ARG_WEIGHTS_LAYER, w_layer.get(query(pd, DNNL_ARG_WEIGHTS_LAYER))},
      {DNNL_ARG_WEIGHTS_ITER, w_iter.get(query(pd, DNNL_ARG_WEIGHTS_ITER))},
      {DNNL_ARG_BIAS, bias.get(query(pd, DNNL_ARG_BIAS))},
      {DNNL_ARG_DST_LAYER, as_memory(b ? io.y16 : io.y, query(pd, DNNL_ARG_DST_LAYER))},
      {DNNL_ARG_DST_ITER, as_memory(b ? io.h_last16 : io.h_last, query(pd, DNNL_ARG_DST_ITER))},
  };
  if (lstm) {
    args[DNNL_ARG_SRC_ITER_C] = as_memory(io.c0, query(pd, DNNL_ARG_SRC_ITER_C));
    args[DNNL_ARG_DST_ITER_C] = as_memory(io.c_last, query(pd, DNNL_ARG_DST_ITER_C));
  }
  return args;
}

}  // namespace

void rnn_dense_forward(const RnnLayerSpec& spec, RnnMode mode, ParamLayouts& w_layer, ParamLayouts& w_iter,
                       ParamLayouts& bias, RnnDenseIO& io) {
  const int64_t T = io.x.dim(0), N = io.x.dim(1);
  const RnnPrimitives& p = rnn_primitives(spec, T, N, mode);
  const dnnl::primitive_desc& pd = p.fwd_pd;
  if (mode.bf16) {
    io.x16 = bf16_copy(io.x);
    io.h0_16 = bf16_copy(io.h0);
    io.y16 = buffer_for(query(pd, DNNL_ARG_DST_LAYER));
    io.h_last16 = buffer_for(query(pd, DNNL_ARG_DST_ITER));
  }
  auto args = data_args(pd, mode, spec.cell == CellType::LSTM, io, w_layer, w_iter, bias);
  if (mode.training) {
    const md ws = query(pd, DNNL_ARG_WORKSPACE);
    io.workspace = buffer_for(ws);
    args[DNNL_ARG_WORKSPACE] = as_memory(io.workspace, ws);
  }
  // Per direction and step: [N, I] x [I, G*H] and [N, H] x [H, G*H].
  count_matmul(T * N * rnn_directions(spec), rnn_gates(spec.cell) * spec.hidden_dim, spec.input_dim + spec.hidden_dim);
  dnnl_execute(p.fwd, std::move(args));
  if (mode.bf16) {  // the fp32 outputs the rest of the graph reads
    to_f32(io.y16, query(pd, DNNL_ARG_DST_LAYER), io.y);
    to_f32(io.h_last16, query(pd, DNNL_ARG_DST_ITER), io.h_last);
  }
}

void rnn_dense_backward(const RnnLayerSpec& spec, RnnMode mode, ParamLayouts& w_layer, ParamLayouts& w_iter,
                        ParamLayouts& bias, const RnnDenseIO& io, RnnDenseGrads& g, RnnParamGrad& dw_layer,
                        RnnParamGrad& dw_iter, RnnParamGrad& dbias) {
  const int64_t T = g.dy.dim(0), N = g.dy.dim(1);  // io.x may be gone (bf16: io.x16 is read)
  if (!mode.training || io.workspace.empty())
    throw Error("rnn_dense_backward: no workspace (the forward was not a training forward)");
  const RnnPrimitives& p = rnn_primitives(spec, T, N, mode);
  const dnnl::primitive_desc& pd = p.bwd_pd;
  const bool lstm = spec.cell == CellType::LSTM;
  g.dx = Tensor({T, N, spec.input_dim});
  g.dh0 = Tensor(io.h0.shape());
  auto args = data_args(pd, mode, lstm, io, w_layer, w_iter, bias);
  args[DNNL_ARG_WORKSPACE] = as_memory(io.workspace, query(pd, DNNL_ARG_WORKSPACE));
  args[DNNL_ARG_DIFF_SRC_LAYER] = as_memory(g.dx, query(pd, DNNL_ARG_DIFF_SRC_LAYER));
  args[DNNL_ARG_DIFF_SRC_ITER] = as_memory(g.dh0, query(pd, DNNL_ARG_DIFF_SRC_ITER));
  args[DNNL_ARG_DIFF_WEIGHTS_LAYER] = dw_layer.get(query(pd, DNNL_ARG_DIFF_WEIGHTS_LAYER));
  args[DNNL_ARG_DIFF_WEIGHTS_ITER] = dw_iter.get(query(pd, DNNL_ARG_DIFF_WEIGHTS_ITER));
  args[DNNL_ARG_DIFF_BIAS] = dbias.get(query(pd, DNNL_ARG_DIFF_BIAS));
  args[DNNL_ARG_DIFF_DST_LAYER] = as_memory(g.dy, query(pd, DNNL_ARG_DIFF_DST_LAYER));
  args[DNNL_ARG_DIFF_DST_ITER] = as_memory(g.dh_last, query(pd, DNNL_ARG_DIFF_DST_ITER));
  if (lstm) {
    g.dc0 = Tensor(io.c0.shape());
    args[DNNL_ARG_DIFF_SRC_ITER_C] = as_memory(g.dc0, query(pd, DNNL_ARG_DIFF_SRC_ITER_C));
    args[DNNL_ARG_DIFF_DST_ITER_C] = as_memory(g.dc_last, query(pd, DNNL_ARG_DIFF_DST_ITER_C));
  }
  // Twice the forward's products: the input/state gradients and the weight gradients.
  count_matmul(2 * T * N * rnn_directions(spec), rnn_gates(spec.cell) * spec.hidden_dim,
               spec.input_dim + spec.hidden_dim);
  dnnl_execute(p.bwd, std::move(args));
}

}  // namespace nmt
