#include "ops/lstm_int8.h"

#include <algorithm>

#include "core/error.h"
#include "ops/eltwise.h"
#include "ops/linear_int8.h"

namespace nmt {

namespace {

// Registry kinds (ops/linear_int8.h) of the weights derived from one direction's W.
enum Kind { kStacked = 1, kInput = 2, kRecurrent = 3 };

// Rows of an [in, 4H] ldigo block, transposed into the linear layout [4H, in] at `column`
// of a [4H, width] matrix.
void put_transposed(const float* w, int64_t in, int64_t G, Tensor& t, int64_t column) {
  const int64_t width = t.dim(1);
  for (int64_t g = 0; g < G; ++g)
    for (int64_t i = 0; i < in; ++i) t[g * width + column + i] = w[i * G + g];
}

const Int8Weights& quantized(const float* key, Kind kind, const std::function<Tensor()>& make) {
  const Int8Weights* q = int8_weights_in_scope(key, kind, make);
  if (!q) throw Error("lstm_dense_int8: no Int8Scope is alive");
  return *q;
}

}  // namespace

bool lstm_int8_applies(const RnnLayerSpec& spec, bool training) {
  return !training && spec.cell == CellType::LSTM && int8_scope_active();
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

void lstm_dense_int8(const RnnLayerSpec& spec, const Tensor& w_layer, const Tensor& w_iter, const Tensor& bias,
                     RnnDenseIO& io) {
  const int64_t T = io.x.dim(0), N = io.x.dim(1), I = spec.input_dim, H = spec.hidden_dim, G = 4 * H;
  const int64_t D = rnn_directions(spec);
  for (int64_t d = 0; d < D; ++d) {
    const float* wl = w_layer.data() + d * I * G;
    const float* wi = w_iter.data() + d * H * G;
    const Tensor b = Tensor::view(const_cast<float*>(bias.data()) + d * G, {G});
    Tensor h = Tensor::view(io.h0.data() + d * N * H, {N, H}).clone();
    Tensor c = Tensor::view(io.c0.data() + d * N * H, {N, H}).clone();
    Tensor a({N, G});
    // The cell on pre-activations a, and h into position t of this direction's half of y.
    auto finish_step = [&](int64_t t) {
      lstm_cell_forward(a, c, c, h);
      for (int64_t n = 0; n < N; ++n) std::copy_n(h.data() + n * H, H, io.y.data() + (t * N + n) * D * H + d * H);
    };
    if (T == 1) {  // one product: [x, h] [W; U] + b
      const Int8Weights& wu = quantized(wl, kStacked, [&] {
        Tensor m({G, I + H});
        put_transposed(wl, I, G, m, 0);
        put_transposed(wi, H, G, m, I);
        return m;
      });
      Tensor xh({N, I + H});
      for (int64_t n = 0; n < N; ++n) {
        std::copy_n(io.x.data() + n * I, I, xh.data() + n * (I + H));
        std::copy_n(h.data() + n * H, H, xh.data() + n * (I + H) + I);
      }
      linear_int8_forward(xh, wu, &b, a);
      finish_step(0);
    } else {  // x W + b for every position at once, then h U step by step
      const Int8Weights& w = quantized(wl, kInput, [&] {
        Tensor m({G, I});
        put_transposed(wl, I, G, m, 0);
        return m;
      });
      const Int8Weights& u = quantized(wi, kRecurrent, [&] {
        Tensor m({G, H});
        put_transposed(wi, H, G, m, 0);
        return m;
      });
      Tensor ax({T * N, G});
      linear_int8_forward(io.x.reshape({T * N, I}), w, &b, ax);
      for (int64_t s = 0; s < T; ++s) {
        const int64_t t = d == 0 ? s : T - 1 - s;
        linear_int8_forward(h, u, nullptr, a);
        const float* px = ax.data() + t * N * G;
        float* pa = a.data();
        for (int64_t i = 0; i < N * G; ++i) pa[i] += px[i];
        finish_step(t);
      }
    }
    std::copy_n(h.data(), N * H, io.h_last.data() + d * N * H);
    std::copy_n(c.data(), N * H, io.c_last.data() + d * N * H);
  }
}

}  // namespace nmt
