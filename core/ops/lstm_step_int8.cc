#include "core/ops/lstm_step_int8.h"

#include <algorithm>

#include "core/error.h"
#include "core/ops/eltwise.h"
#include "core/ops/linear_int8.h"

namespace nmt {

bool lstm_step_int8_applies(const RnnLayerSpec& spec, int64_t T, bool training) {
  return !training && T == 1 && spec.cell == CellType::LSTM && !spec.bidirectional && int8_scope_active();
}

void lstm_cell_forward(Tensor& a, const Tensor& c, Tensor& c_out, Tensor& h_out) {
  const int64_t N = c.dim(0), H = c.dim(1);
  if (a.shape() != Shape{N, 4 * H} || c_out.shape() != c.shape() || h_out.shape() != c.shape())
    throw Error(cat("lstm_cell_forward: pre-activations ", shape_str(a.shape()), ", state ", shape_str(c.shape()),
                    ", outputs ", shape_str(c_out.shape()), " and ", shape_str(h_out.shape()),
                    " do not fit [N, 4H], [N, H]"));
  float* pa = a.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 2 * H; j < 3 * H; ++j) pa[n * 4 * H + j] *= 2.f;
  eltwise_forward(Activation::Sigmoid, a, a);
  const float* pc = c.data();
  float* co = c_out.data();
  for (int64_t n = 0; n < N; ++n) {
    const float* g = pa + n * 4 * H;
    for (int64_t j = 0; j < H; ++j) co[n * H + j] = g[H + j] * pc[n * H + j] + g[j] * (2.f * g[2 * H + j] - 1.f);
  }
  eltwise_forward(Activation::Tanh, c_out, h_out);
  float* ho = h_out.data();
  for (int64_t n = 0; n < N; ++n) {
    const float* g = pa + n * 4 * H;
    for (int64_t j = 0; j < H; ++j) ho[n * H + j] *= g[3 * H + j];
  }
}

RnnOutput lstm_step_int8(const RnnLayerSpec& spec, const Var& x, const Var& w_layer, const Var& w_iter,
                         const Var& bias, const Var& h0, const Var& c0) {
  const int64_t N = x->value.dim(1), I = spec.input_dim, H = spec.hidden_dim;
  const Tensor xs = x->value.reshape({N, I});
  const Tensor zeros = (!h0 || !c0) ? Tensor::zeros({N, H}) : Tensor();
  const Tensor hs = h0 ? h0->value.reshape({N, H}) : zeros;
  const Tensor cs = c0 ? c0->value.reshape({N, H}) : zeros;
  // [W; U] transposed to [4H, I + H], the linear layout.
  const Tensor wl = w_layer->value, wi = w_iter->value;
  const Int8Weights* wu = int8_weights_in_scope(wl.data(), 1, [&] {
    Tensor t({4 * H, I + H});
    for (int64_t g = 0; g < 4 * H; ++g) {
      for (int64_t i = 0; i < I; ++i) t[g * (I + H) + i] = wl[i * 4 * H + g];
      for (int64_t i = 0; i < H; ++i) t[g * (I + H) + I + i] = wi[i * 4 * H + g];
    }
    return t;
  });
  if (!wu) throw Error("lstm_step_int8: no Int8Scope is alive");
  Tensor xh({N, I + H});
  for (int64_t n = 0; n < N; ++n) {
    std::copy_n(xs.data() + n * I, I, xh.data() + n * (I + H));
    std::copy_n(hs.data() + n * H, H, xh.data() + n * (I + H) + I);
  }
  const Tensor b = bias->value.reshape({4 * H});
  Tensor a({N, 4 * H});
  linear_int8_forward(xh, *wu, &b, a);
  RnnOutput out;
  out.h_last = result(Tensor({1, N, H}), {});
  out.c_last = result(Tensor({1, N, H}), {});
  Tensor h_out = out.h_last->value.reshape({N, H}), c_out = out.c_last->value.reshape({N, H});
  lstm_cell_forward(a, cs, c_out, h_out);
  out.seq = out.h_last;
  return out;
}

}  // namespace nmt
