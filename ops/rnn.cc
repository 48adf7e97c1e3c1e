#include "ops/rnn.h"

#include <cstring>
#include <map>

#include "core/error.h"
#include "ops/lstm_int8.h"
#include "ops/rnn_primitive.h"

namespace nmt {

const char* cell_name(CellType cell) {
  switch (cell) {
    case CellType::Tanh:
      return "tanh";
    case CellType::LSTM:
      return "lstm";
    case CellType::GRU:
      return "gru";
  }
  return "?";
}

int64_t rnn_directions(const RnnLayerSpec& spec) { return spec.bidirectional ? 2 : 1; }

int64_t rnn_gates(CellType cell) {
  switch (cell) {
    case CellType::Tanh:
      return 1;
    case CellType::LSTM:
      return 4;
    case CellType::GRU:
      return 3;
  }
  return 0;
}

int64_t rnn_bias_gates(CellType cell) { return cell == CellType::GRU ? 4 : rnn_gates(cell); }

Shape rnn_weights_layer_shape(const RnnLayerSpec& s) {
  return {rnn_directions(s), s.input_dim, rnn_gates(s.cell), s.hidden_dim};
}
Shape rnn_weights_iter_shape(const RnnLayerSpec& s) {
  return {rnn_directions(s), s.hidden_dim, rnn_gates(s.cell), s.hidden_dim};
}
Shape rnn_bias_shape(const RnnLayerSpec& s) { return {rnn_directions(s), rnn_bias_gates(s.cell), s.hidden_dim}; }

namespace {

std::string spec_str(const RnnLayerSpec& s) {
  return cat(cell_name(s.cell), s.bidirectional ? " bidirectional" : " unidirectional", " input_dim ", s.input_dim,
             " hidden_dim ", s.hidden_dim);
}

void check_shape(const RnnLayerSpec& spec, const Var& v, const char* what, const Shape& expected) {
  if (!v) throw Error(cat("rnn_layer: ", what, " is missing (expected shape ", shape_str(expected), ")"));
  if (v->value.shape() != expected)
    throw Error(cat("rnn_layer: ", what, " has shape ", shape_str(v->value.shape()), ", expected ", shape_str(expected),
                    " (", spec_str(spec), ")"));
}

void check_inputs(const RnnLayerSpec& spec, const Var& x, const std::vector<int>& lengths, const Var& w_layer,
                  const Var& w_iter, const Var& bias, const Var& h0, const Var& c0) {
  if (spec.input_dim <= 0 || spec.hidden_dim <= 0) throw Error(cat("rnn_layer: bad spec: ", spec_str(spec)));
  if (!x) throw Error("rnn_layer: x is missing");
  const Shape& xs = x->value.shape();
  if (xs.size() != 3 || xs[0] < 1 || xs[1] < 1 || xs[2] != spec.input_dim)
    throw Error(cat("rnn_layer: x has shape ", shape_str(xs), ", expected [T >= 1, N >= 1, ", spec.input_dim, "] (",
                    spec_str(spec), ")"));
  const int64_t T = xs[0], N = xs[1], D = rnn_directions(spec), H = spec.hidden_dim;
  check_shape(spec, w_layer, "w_layer", rnn_weights_layer_shape(spec));
  check_shape(spec, w_iter, "w_iter", rnn_weights_iter_shape(spec));
  check_shape(spec, bias, "bias", rnn_bias_shape(spec));
  if (h0) check_shape(spec, h0, "h0", {D, N, H});
  if (c0) {
    if (spec.cell != CellType::LSTM)
      throw Error(cat("rnn_layer: c0 given (shape ", shape_str(c0->value.shape()), ") for a ", cell_name(spec.cell),
                      " cell, which has no cell state"));
    check_shape(spec, c0, "c0", {D, N, H});
  }
  if (!lengths.empty()) {
    if (static_cast<int64_t>(lengths.size()) != N)
      throw Error(cat("rnn_layer: ", lengths.size(), " lengths for a batch of ", N, " (x shape ", shape_str(xs), ")"));
    for (size_t i = 0; i < lengths.size(); ++i)
      if (lengths[i] < 1 || lengths[i] > T)
        throw Error(cat("rnn_layer: length ", lengths[i], " of sentence ", i, " is outside 1..", T, " (x shape ",
                        shape_str(xs), ")"));
  }
}

// Sentences of one length, run as one dense sub-batch. `all` = the group is the whole batch
// in order, so its tensors are prefixes of (or equal to) the full ones: no gather.
struct Group {
  int64_t L = 0;
  std::vector<int64_t> idx;
  bool all = false;
  RnnDenseIO io;
};

std::vector<Group> make_groups(const std::vector<int>& lengths, int64_t T, int64_t N) {
  std::map<int, std::vector<int64_t>> by_len;
  if (lengths.empty()) {
    for (int64_t i = 0; i < N; ++i) by_len[static_cast<int>(T)].push_back(i);
  } else {
    for (int64_t i = 0; i < N; ++i) by_len[lengths[i]].push_back(i);
  }
  std::vector<Group> groups;
  for (auto& [len, idx] : by_len) {
    Group g;
    g.L = len;
    g.all = static_cast<int64_t>(idx.size()) == N;
    g.idx = std::move(idx);
    groups.push_back(std::move(g));
  }
  return groups;
}

// The first L slices of a [T, N, C] tensor (contiguous), sharing (and keeping) its storage:
// the backward closure keeps these after the Vars are gone.
Tensor prefix(const Tensor& t, int64_t L) { return t.leading(L); }

// out[l, j, :] = src[l, idx[j], :] for l < L. src is [*, N, C].
Tensor gather(const Tensor& src, int64_t L, const std::vector<int64_t>& idx) {
  const int64_t N = src.dim(1), C = src.dim(2), n = static_cast<int64_t>(idx.size());
  Tensor out({L, n, C});
  const float* s = src.data();
  float* o = out.data();
#pragma omp parallel for collapse(2) if (L * n * C > 32768)
  for (int64_t l = 0; l < L; ++l)
    for (int64_t j = 0; j < n; ++j) std::memcpy(o + (l * n + j) * C, s + (l * N + idx[j]) * C, C * sizeof(float));
  return out;
}

// dst[l, idx[j], :] (+)= src[l, j, :] for l < src.dim(0). dst is [*, N, C].
void scatter(const Tensor& src, const std::vector<int64_t>& idx, Tensor& dst, bool accumulate) {
  const int64_t L = src.dim(0), n = src.dim(1), C = src.dim(2), N = dst.dim(1);
  const float* s = src.data();
  float* d = dst.data();
#pragma omp parallel for collapse(2) if (L * n * C > 32768)
  for (int64_t l = 0; l < L; ++l)
    for (int64_t j = 0; j < n; ++j) {
      const float* sp = s + (l * n + j) * C;
      float* dp = d + (l * N + idx[j]) * C;
      if (accumulate) {
        for (int64_t c = 0; c < C; ++c) dp[c] += sp[c];
      } else {
        std::memcpy(dp, sp, C * sizeof(float));
      }
    }
}

void add_into(const Tensor& src, Tensor& dst) {
  const float* s = src.data();
  float* d = dst.data();
  const int64_t n = src.numel();
#pragma omp parallel for simd if (n > 32768)
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

// The group's slice of a full tensor ([*, N, C]): its first L rows, gathered unless the group is whole.
Tensor slice_in(const Group& g, const Tensor& full, int64_t L) {
  return g.all ? (L == full.dim(0) ? full : prefix(full, L)) : gather(full, L, g.idx);
}

// Adds a group's gradient slice into a full gradient.
void slice_add(const Group& g, const Tensor& part, Tensor& full) {
  if (g.all) {
    Tensor dst = prefix(full, part.dim(0));
    add_into(part, dst);
  } else {
    scatter(part, g.idx, full, /*accumulate=*/true);
  }
}

// 0: no recomputation; otherwise the most positions (steps x sentences) whose workspace the
// backward rebuilds at once (RnnRecomputeScope).
thread_local int64_t t_recompute_positions = 0;

// Rows `local` of group g (indices into the group) as a group of their own, with the io of a
// training forward rerun here (into scratch outputs) to rebuild its workspace.
Group recomputed(const RnnLayerSpec& spec, RnnMode mode, const Group& g, const std::vector<int64_t>& local,
                 ParamLayouts& wl, ParamLayouts& wi, ParamLayouts& b) {
  const bool lstm = spec.cell == CellType::LSTM;
  const int64_t D = rnn_directions(spec), m = static_cast<int64_t>(local.size());
  const bool whole = m == static_cast<int64_t>(g.idx.size());
  Group p;
  p.L = g.L;
  for (int64_t j : local) p.idx.push_back(g.idx[j]);
  p.all = whole && g.all;
  RnnDenseIO& io = p.io;
  io.x = whole ? g.io.x : gather(g.io.x, g.L, local);
  io.h0 = whole ? g.io.h0 : gather(g.io.h0, D, local);
  if (lstm) io.c0 = whole ? g.io.c0 : gather(g.io.c0, D, local);
  io.y = Tensor({g.L, m, g.io.y.dim(2)});
  io.h_last = Tensor({D, m, spec.hidden_dim});
  if (lstm) io.c_last = Tensor({D, m, spec.hidden_dim});
  rnn_dense_forward(spec, mode, wl, wi, b, io);  // rebuilds io.workspace
  return p;
}

// The parameters' values come as saved tensors (a NodeRef does not keep a value).
void run_backward(const RnnLayerSpec& spec, RnnMode mode, int64_t recompute, const std::vector<Group>& groups,
                  const NodeRef& x, const NodeRef& w_layer, const Tensor& w_layer_value, const NodeRef& w_iter,
                  const Tensor& w_iter_value, const NodeRef& bias, const Tensor& bias_value, const NodeRef& h0,
                  const NodeRef& c0, const NodeRef& seq, const NodeRef& h_last, const NodeRef& c_last) {
  const bool lstm = spec.cell == CellType::LSTM;
  const int64_t D = rnn_directions(spec), H = spec.hidden_dim;
  ParamLayouts wl(w_layer_value, rnn_weights_layer_md(spec));
  ParamLayouts wi(w_iter_value, rnn_weights_iter_md(spec));
  ParamLayouts b(bias_value, rnn_bias_md(spec));
  RnnParamGrad dwl(w_layer->requires_grad ? &w_layer->grad_buffer() : nullptr, rnn_weights_layer_md(spec));
  RnnParamGrad dwi(w_iter->requires_grad ? &w_iter->grad_buffer() : nullptr, rnn_weights_iter_md(spec));
  RnnParamGrad db(bias->requires_grad ? &bias->grad_buffer() : nullptr, rnn_bias_md(spec));
  auto backward = [&](const Group& g) {
    const int64_t n = static_cast<int64_t>(g.idx.size());
    RnnDenseGrads dg;
    dg.dy = seq->grad.empty() ? Tensor::zeros({g.L, n, D * H}) : slice_in(g, seq->grad, g.L);
    dg.dh_last = h_last->grad.empty() ? Tensor::zeros({D, n, H}) : slice_in(g, h_last->grad, D);
    if (lstm) dg.dc_last = c_last->grad.empty() ? Tensor::zeros({D, n, H}) : slice_in(g, c_last->grad, D);
    rnn_dense_backward(spec, mode, wl, wi, b, g.io, dg, dwl, dwi, db);
    if (x->requires_grad) slice_add(g, dg.dx, x->grad_buffer());
    if (h0 && h0->requires_grad) slice_add(g, dg.dh0, h0->grad_buffer());
    if (c0 && c0->requires_grad) slice_add(g, dg.dc0, c0->grad_buffer());
  };
  for (const Group& g : groups) {
    if (!recompute) {
      backward(g);
      continue;
    }
    // One piece's workspace at a time: each is freed before the next is rebuilt.
    const int64_t rows = std::max<int64_t>(1, recompute / g.L), n = static_cast<int64_t>(g.idx.size());
    for (int64_t r0 = 0; r0 < n; r0 += rows) {
      std::vector<int64_t> local;
      for (int64_t j = r0; j < std::min(n, r0 + rows); ++j) local.push_back(j);
      backward(recomputed(spec, mode, g, local, wl, wi, b));
    }
  }
  dwl.finish();
  dwi.finish();
  db.finish();
}

}  // namespace

RnnOutput rnn_layer(const RnnLayerSpec& spec, const Var& x, const std::vector<int>& lengths, const Var& w_layer,
                    const Var& w_iter, const Var& bias, const Var& h0, const Var& c0) {
  check_inputs(spec, x, lengths, w_layer, w_iter, bias, h0, c0);
  const bool lstm = spec.cell == CellType::LSTM;
  const int64_t T = x->value.dim(0), N = x->value.dim(1), D = rnn_directions(spec), H = spec.hidden_dim;
  const bool training = Tape::current().recording({&x, &w_layer, &w_iter, &bias, &h0, &c0});

  std::vector<Group> groups = make_groups(lengths, T, N);
  const bool dense = groups.size() == 1 && groups[0].L == T;
  RnnOutput out;
  out.seq =
      result(dense ? Tensor({T, N, D * H}) : Tensor::zeros({T, N, D * H}), {&x, &w_layer, &w_iter, &bias, &h0, &c0});
  out.h_last = result(Tensor({D, N, H}), {&x, &w_layer, &w_iter, &bias, &h0, &c0});
  if (lstm) out.c_last = result(Tensor({D, N, H}), {&x, &w_layer, &w_iter, &bias, &h0, &c0});

  const Tensor zero_state = (!h0 || (lstm && !c0)) ? Tensor::zeros({D, N, H}) : Tensor();
  const Tensor& h0_full = h0 ? h0->value : zero_state;
  const Tensor& c0_full = c0 ? c0->value : zero_state;

  // fp32 primitives read the plain parameters in place and write plain gradients: for
  // longer sequences oneDNN's own choice is the same ldigo layout with each row padded
  // (2,048 floats to 2,064), which cost a copy of every weight and a summing reorder of its
  // gradient each call for no speed (rnn_primitive.h). bf16 primitives take oneDNN's
  // layouts, except for single steps (decoding), where a reorder would cost as much as the step.
  const bool bf16 = rnn_bf16_active();
  const bool plain = T == 1 || !bf16;
  const RnnMode mode{training, plain, bf16};
  const int64_t recompute = training && T > 1 ? t_recompute_positions : 0;
  const RnnMode forward_mode{training && recompute == 0, plain, bf16};
  ParamLayouts wl(w_layer->value, rnn_weights_layer_md(spec));
  ParamLayouts wi(w_iter->value, rnn_weights_iter_md(spec));
  ParamLayouts b(bias->value, rnn_bias_md(spec));
  for (Group& g : groups) {
    const int64_t n = static_cast<int64_t>(g.idx.size());
    RnnDenseIO& io = g.io;
    io.x = slice_in(g, x->value, g.L);
    io.h0 = slice_in(g, h0_full, D);
    if (lstm) io.c0 = slice_in(g, c0_full, D);
    if (g.all) {  // write straight into the outputs
      io.y = g.L == T ? out.seq->value : prefix(out.seq->value, g.L);
      io.h_last = out.h_last->value;
      if (lstm) io.c_last = out.c_last->value;
    } else {
      io.y = Tensor({g.L, n, D * H});
      io.h_last = Tensor({D, n, H});
      if (lstm) io.c_last = Tensor({D, n, H});
    }
    if (lstm_int8_applies(spec, training))
      lstm_dense_int8(spec, w_layer->value, w_iter->value, bias->value, io);
    else
      rnn_dense_forward(spec, forward_mode, wl, wi, b, io);
    if (!g.all) {
      scatter(io.y, g.idx, out.seq->value, /*accumulate=*/false);
      scatter(io.h_last, g.idx, out.h_last->value, false);
      if (lstm) scatter(io.c_last, g.idx, out.c_last->value, false);
    }
    if (bf16 && forward_mode.training) {  // the backward reads the bf16 copies: the fp32 ones may go
      io.x = Tensor();
      io.y = Tensor();
    }
  }

  if (training) {
    // The groups' io keeps what the backward reads (inputs, outputs, workspace); the
    // closure, destroyed once run, frees them.
    Tape::current().push([spec, mode, recompute, groups = std::move(groups), x = x.node(), w_layer = w_layer.node(),
                          wlv = w_layer->value, w_iter = w_iter.node(), wiv = w_iter->value, bias = bias.node(),
                          bv = bias->value, h0 = h0.node(), c0 = c0.node(), seq = out.seq.node(),
                          h_last = out.h_last.node(), c_last = out.c_last.node()] {
      if (seq->grad.empty() && h_last->grad.empty() && (!c_last || c_last->grad.empty())) return;
      run_backward(spec, mode, recompute, groups, x, w_layer, wlv, w_iter, wiv, bias, bv, h0, c0, seq, h_last, c_last);
    });
  }
  return out;
}

RnnRecomputeScope::RnnRecomputeScope(bool on, int64_t max_positions) : previous_(t_recompute_positions) {
  if (on && max_positions < 1) throw Error(cat("RnnRecomputeScope: max_positions ", max_positions, " < 1"));
  t_recompute_positions = on ? max_positions : 0;
}
RnnRecomputeScope::~RnnRecomputeScope() { t_recompute_positions = previous_; }
bool rnn_recompute_active() { return t_recompute_positions > 0; }

}  // namespace nmt
