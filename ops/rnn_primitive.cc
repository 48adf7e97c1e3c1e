#include "ops/rnn_primitive.h"

#include <string>
#include <unordered_map>

#include "core/context.h"
#include "core/error.h"
#include "ops/flops.h"

namespace nmt {

namespace {

using dnnl::memory;
using md = dnnl::memory::desc;

md any_md(const Shape& shape) {
  return md(memory::dims(shape.begin(), shape.end()), memory::data_type::f32, memory::format_tag::any);
}

// The C descriptor is plain data: its bytes identify a layout exactly.
std::string md_key(const md& m) { return std::string(reinterpret_cast<const char*>(&m.data), sizeof(m.data)); }

std::string mode_name(RnnMode mode) {
  return cat(mode.training ? "train" : "infer", mode.plain_weights ? "-plain" : "");
}

// Everything a descriptor needs, for one (spec, T, N, mode).
struct RnnDescs {
  dnnl::rnn_direction dir;
  md src, iter, dst, bias;
  md w_layer, w_iter;          // forward weights: any, or plain
  md w_layer_any, w_iter_any;  // backward weights
  md dw_layer, dw_iter;        // diff weights: any, or plain
};

RnnPrimitives make_primitives(const RnnLayerSpec& spec, int64_t T, int64_t N, RnnMode mode) {
  const int64_t D = rnn_directions(spec), H = spec.hidden_dim, I = spec.input_dim, G = rnn_gates(spec.cell);
  RnnDescs d;
  d.dir = D == 2 ? dnnl::rnn_direction::bidirectional_concat : dnnl::rnn_direction::unidirectional_left2right;
  d.src = plain_md({T, N, I});
  d.iter = plain_md({1, D, N, H});
  d.dst = plain_md({T, N, D * H});
  d.bias = rnn_bias_md(spec);
  d.w_layer_any = any_md({1, D, I, G, H});
  d.w_iter_any = any_md({1, D, H, G, H});
  d.w_layer = d.dw_layer = mode.plain_weights ? rnn_weights_layer_md(spec) : d.w_layer_any;
  d.w_iter = d.dw_iter = mode.plain_weights ? rnn_weights_iter_md(spec) : d.w_iter_any;
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
            {back, act, d.dir, d.src, d.iter, d.w_layer_any, d.w_iter_any, d.bias, d.dst, d.iter, d.src, d.iter,
             d.dw_layer, d.dw_iter, d.bias, d.dst, d.iter},
            attr, eng, fpd);
        p.bwd_pd = bpd;
        p.bwd = dnnl::vanilla_rnn_backward(bpd);
      }
      break;
    }
    case CellType::LSTM: {
      dnnl::lstm_forward::primitive_desc fpd(
          {prop, d.dir, d.src, d.iter, d.iter, d.w_layer, d.w_iter, d.bias, d.dst, d.iter, d.iter}, attr, eng);
      p.fwd_pd = fpd;
      p.fwd = dnnl::lstm_forward(fpd);
      if (mode.training) {
        dnnl::lstm_backward::primitive_desc bpd(
            {back,   d.dir, d.src,  d.iter, d.iter,     d.w_layer_any, d.w_iter_any, d.bias, d.dst,  d.iter,
             d.iter, d.src, d.iter, d.iter, d.dw_layer, d.dw_iter,     d.bias,       d.dst,  d.iter, d.iter},
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
            {back, d.dir, d.src, d.iter, d.w_layer_any, d.w_iter_any, d.bias, d.dst, d.iter, d.src, d.iter, d.dw_layer,
             d.dw_iter, d.bias, d.dst, d.iter},
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

void rnn_dense_forward(const RnnLayerSpec& spec, RnnMode mode, ParamLayouts& w_layer, ParamLayouts& w_iter,
                       ParamLayouts& bias, RnnDenseIO& io) {
  const int64_t T = io.x.dim(0), N = io.x.dim(1);
  const RnnPrimitives& p = rnn_primitives(spec, T, N, mode);
  const md iter = query(p.fwd_pd, DNNL_ARG_SRC_ITER);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, as_memory(io.x, query(p.fwd_pd, DNNL_ARG_SRC_LAYER))},
      {DNNL_ARG_SRC_ITER, as_memory(io.h0, iter)},
      {DNNL_ARG_WEIGHTS_LAYER, w_layer.get(query(p.fwd_pd, DNNL_ARG_WEIGHTS_LAYER))},
      {DNNL_ARG_WEIGHTS_ITER, w_iter.get(query(p.fwd_pd, DNNL_ARG_WEIGHTS_ITER))},
      {DNNL_ARG_BIAS, bias.get(query(p.fwd_pd, DNNL_ARG_BIAS))},
      {DNNL_ARG_DST_LAYER, as_memory(io.y, query(p.fwd_pd, DNNL_ARG_DST_LAYER))},
      {DNNL_ARG_DST_ITER, as_memory(io.h_last, iter)},
  };
  if (spec.cell == CellType::LSTM) {
    args[DNNL_ARG_SRC_ITER_C] = as_memory(io.c0, iter);
    args[DNNL_ARG_DST_ITER_C] = as_memory(io.c_last, iter);
  }
  if (mode.training) {
    const md ws = query(p.fwd_pd, DNNL_ARG_WORKSPACE);
    io.workspace = buffer_for(ws);
    args[DNNL_ARG_WORKSPACE] = as_memory(io.workspace, ws);
  }
  // Per direction and step: [N, I] x [I, G*H] and [N, H] x [H, G*H].
  count_matmul(T * N * rnn_directions(spec), rnn_gates(spec.cell) * spec.hidden_dim, spec.input_dim + spec.hidden_dim);
  dnnl_execute(p.fwd, std::move(args));
}

void rnn_dense_backward(const RnnLayerSpec& spec, RnnMode mode, ParamLayouts& w_layer, ParamLayouts& w_iter,
                        ParamLayouts& bias, const RnnDenseIO& io, RnnDenseGrads& g, RnnParamGrad& dw_layer,
                        RnnParamGrad& dw_iter, RnnParamGrad& dbias) {
  const int64_t T = io.x.dim(0), N = io.x.dim(1);
  if (!mode.training || io.workspace.empty())
    throw Error("rnn_dense_backward: no workspace (the forward was not a training forward)");
  const RnnPrimitives& p = rnn_primitives(spec, T, N, mode);
  const dnnl::primitive_desc& pd = p.bwd_pd;
  const md iter = query(pd, DNNL_ARG_SRC_ITER);
  g.dx = Tensor(io.x.shape());
  g.dh0 = Tensor(io.h0.shape());
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, as_memory(io.x, query(pd, DNNL_ARG_SRC_LAYER))},
      {DNNL_ARG_SRC_ITER, as_memory(io.h0, iter)},
      {DNNL_ARG_WEIGHTS_LAYER, w_layer.get(query(pd, DNNL_ARG_WEIGHTS_LAYER))},
      {DNNL_ARG_WEIGHTS_ITER, w_iter.get(query(pd, DNNL_ARG_WEIGHTS_ITER))},
      {DNNL_ARG_BIAS, bias.get(query(pd, DNNL_ARG_BIAS))},
      {DNNL_ARG_DST_LAYER, as_memory(io.y, query(pd, DNNL_ARG_DST_LAYER))},
      {DNNL_ARG_DST_ITER, as_memory(io.h_last, iter)},
      {DNNL_ARG_WORKSPACE, as_memory(io.workspace, query(pd, DNNL_ARG_WORKSPACE))},
      {DNNL_ARG_DIFF_SRC_LAYER, as_memory(g.dx, query(pd, DNNL_ARG_DIFF_SRC_LAYER))},
      {DNNL_ARG_DIFF_SRC_ITER, as_memory(g.dh0, iter)},
      {DNNL_ARG_DIFF_WEIGHTS_LAYER, dw_layer.get(query(pd, DNNL_ARG_DIFF_WEIGHTS_LAYER))},
      {DNNL_ARG_DIFF_WEIGHTS_ITER, dw_iter.get(query(pd, DNNL_ARG_DIFF_WEIGHTS_ITER))},
      {DNNL_ARG_DIFF_BIAS, dbias.get(query(pd, DNNL_ARG_DIFF_BIAS))},
      {DNNL_ARG_DIFF_DST_LAYER, as_memory(g.dy, query(pd, DNNL_ARG_DIFF_DST_LAYER))},
      {DNNL_ARG_DIFF_DST_ITER, as_memory(g.dh_last, iter)},
  };
  if (spec.cell == CellType::LSTM) {
    g.dc0 = Tensor(io.c0.shape());
    args[DNNL_ARG_SRC_ITER_C] = as_memory(io.c0, iter);
    args[DNNL_ARG_DST_ITER_C] = as_memory(io.c_last, iter);
    args[DNNL_ARG_DIFF_SRC_ITER_C] = as_memory(g.dc0, iter);
    args[DNNL_ARG_DIFF_DST_ITER_C] = as_memory(g.dc_last, iter);
  }
  // Twice the forward's products: the input/state gradients and the weight gradients.
  count_matmul(2 * T * N * rnn_directions(spec), rnn_gates(spec.cell) * spec.hidden_dim,
               spec.input_dim + spec.hidden_dim);
  dnnl_execute(p.bwd, std::move(args));
}

}  // namespace nmt
