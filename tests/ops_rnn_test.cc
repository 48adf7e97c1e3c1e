// rnn_layer (ops/rnn.h) against a naive per-sentence loop of oneDNN's cell equations,
// its gradients against central finite differences, padding invariance, single-step
// decoding, accumulation into existing gradients, the bf16 primitives against fp32, and the
// error paths.
//
// The cell equations oneDNN uses (reference implemented below, in double):
//   Tanh: h' = tanh(W x + U h + b)
//   LSTM, gate order i, f, c~, o: i = sigm(.), f = sigm(.), c~ = tanh(.), o = sigm(.),
//         c' = f c + i c~, h' = o tanh(c')
//   GRU, linear-before-reset, gates u, r, o, bias rows b_u, b_r, b_o, b_o':
//         u = sigm(W_u x + U_u h + b_u), r = sigm(W_r x + U_r h + b_r),
//         o = tanh(W_o x + b_o + r (U_o h + b_o')), h' = u h + (1 - u) o
// with W[d, i, g, h] (ldigo), U[d, j, g, h], b[d, g, h].
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "core/allocator.h"
#include "core/context.h"
#include "core/error.h"
#include "gradcheck.h"
#include "ops/bf16.h"
#include "ops/rnn.h"
#include "ops/rnn_primitive.h"

namespace nmt {
namespace {

using testing::random_tensor;

// These sizes are tiny: with several OpenMP threads, oneDNN's per-step barriers dominate
// (and on a loaded machine a call takes milliseconds instead of microseconds), so the
// tests run on one thread. Results do not depend on the thread count.
class OneThread : public ::testing::Environment {
 public:
  void SetUp() override { Context::get().set_threads(1); }
};
const auto* const one_thread = ::testing::AddGlobalTestEnvironment(new OneThread);

struct Inputs {
  Tensor x, wl, wi, b, h0, c0;  // h0 / c0 may be empty (null Var: zero state)
};

Inputs make_inputs(const RnnLayerSpec& s, int64_t T, int64_t N, uint64_t seed, bool with_state) {
  const int64_t D = rnn_directions(s), H = s.hidden_dim;
  Inputs in;
  in.x = random_tensor({T, N, s.input_dim}, seed);
  // Recurrent weights ~ 1/sqrt(H) for wide layers, so the cells stay out of saturation.
  const float wr = H <= 4 ? 0.6f : 1.2f / std::sqrt(static_cast<float>(H));
  in.wl = random_tensor(rnn_weights_layer_shape(s), seed + 1, -0.6f, 0.6f);
  in.wi = random_tensor(rnn_weights_iter_shape(s), seed + 2, -wr, wr);
  in.b = random_tensor(rnn_bias_shape(s), seed + 3, -0.5f, 0.5f);
  if (with_state) {
    in.h0 = random_tensor({D, N, H}, seed + 4);
    if (s.cell == CellType::LSTM) in.c0 = random_tensor({D, N, H}, seed + 5);
  }
  return in;
}

std::vector<Tensor> as_list(const Inputs& in) { return {in.x, in.wl, in.wi, in.b, in.h0, in.c0}; }

Var maybe_leaf(const Tensor& t, bool grad) { return t.empty() ? Var() : leaf(t, grad); }

// Vars for x, wl, wi, b, h0, c0 (h0 / c0 null when empty).
std::vector<Var> make_vars(const Inputs& in, bool grad) {
  std::vector<Var> v;
  for (const Tensor& t : as_list(in)) v.push_back(maybe_leaf(t.empty() ? t : t.clone(), grad));
  return v;
}

RnnOutput run(const RnnLayerSpec& s, const std::vector<Var>& v, const std::vector<int>& lengths) {
  return rnn_layer(s, v[0], lengths, v[1], v[2], v[3], v[4], v[5]);
}

// ---- The naive reference -------------------------------------------------------------

double sigm(double z) { return 1.0 / (1.0 + std::exp(-z)); }

struct RefOut {
  std::vector<double> seq, h, c;  // [T, N, D*H], [D, N, H], [D, N, H]
};

RefOut reference(const RnnLayerSpec& s, const Inputs& in, const std::vector<int>& lengths) {
  const int64_t T = in.x.dim(0), N = in.x.dim(1), I = s.input_dim, H = s.hidden_dim, D = rnn_directions(s);
  const int64_t G = rnn_gates(s.cell), Gb = rnn_bias_gates(s.cell);
  RefOut r;
  r.seq.assign(T * N * D * H, 0.0);
  r.h.assign(D * N * H, 0.0);
  r.c.assign(D * N * H, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t len = lengths.empty() ? T : lengths[n];
    for (int64_t d = 0; d < D; ++d) {
      std::vector<double> h(H, 0.0), c(H, 0.0);
      for (int64_t k = 0; k < H; ++k) {
        if (!in.h0.empty()) h[k] = in.h0[(d * N + n) * H + k];
        if (!in.c0.empty()) c[k] = in.c0[(d * N + n) * H + k];
      }
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = d == 0 ? step : len - 1 - step;
        // wx[g][k] = sum_i x_i W[d,i,g,k];  uh[g][k] = sum_j h_j U[d,j,g,k]
        std::vector<std::vector<double>> wx(G, std::vector<double>(H, 0.0)), uh = wx;
        for (int64_t g = 0; g < G; ++g)
          for (int64_t k = 0; k < H; ++k) {
            for (int64_t i = 0; i < I; ++i)
              wx[g][k] += double(in.x[(t * N + n) * I + i]) * in.wl[((d * I + i) * G + g) * H + k];
            for (int64_t j = 0; j < H; ++j) uh[g][k] += h[j] * in.wi[((d * H + j) * G + g) * H + k];
          }
        auto b = [&](int64_t g, int64_t k) { return double(in.b[(d * Gb + g) * H + k]); };
        std::vector<double> hn(H);
        for (int64_t k = 0; k < H; ++k) {
          switch (s.cell) {
            case CellType::Tanh:
              hn[k] = std::tanh(wx[0][k] + uh[0][k] + b(0, k));
              break;
            case CellType::LSTM: {
              const double i = sigm(wx[0][k] + uh[0][k] + b(0, k)), f = sigm(wx[1][k] + uh[1][k] + b(1, k));
              const double cc = std::tanh(wx[2][k] + uh[2][k] + b(2, k)), o = sigm(wx[3][k] + uh[3][k] + b(3, k));
              c[k] = f * c[k] + i * cc;
              hn[k] = o * std::tanh(c[k]);
              break;
            }
            case CellType::GRU: {
              const double u = sigm(wx[0][k] + uh[0][k] + b(0, k)), rr = sigm(wx[1][k] + uh[1][k] + b(1, k));
              const double o = std::tanh(wx[2][k] + b(2, k) + rr * (uh[2][k] + b(3, k)));
              hn[k] = u * h[k] + (1 - u) * o;
              break;
            }
          }
        }
        h = hn;
        for (int64_t k = 0; k < H; ++k) r.seq[(t * N + n) * D * H + d * H + k] = h[k];
      }
      for (int64_t k = 0; k < H; ++k) {
        r.h[(d * N + n) * H + k] = h[k];
        r.c[(d * N + n) * H + k] = c[k];
      }
    }
  }
  return r;
}

void expect_close(const Tensor& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  for (int64_t i = 0; i < got.numel(); ++i) ASSERT_NEAR(got[i], want[i], tol) << what << " element " << i;
}

void expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < got.numel(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0f, std::fabs(want[i]))) << what << " element " << i;
}

RnnLayerSpec spec_of(CellType cell, bool bi, int64_t I = 3, int64_t H = 4) { return {cell, bi, I, H}; }

// ---- Forward vs the naive loop -------------------------------------------------------

void check_forward(CellType cell, bool bi) {
  const RnnLayerSpec s = spec_of(cell, bi);
  const int64_t T = 5, N = 4;
  struct Case {
    std::vector<int> lengths;
    bool state;
  };
  // dense without / with initial state, ragged (several groups), all equal but < T (one prefix group)
  const std::vector<Case> cases = {{{}, false}, {{}, true}, {{5, 3, 1, 3}, true}, {{2, 2, 2, 2}, true}};
  for (const Case& c : cases) {
    const Inputs in = make_inputs(s, T, N, 7, c.state);
    const RefOut ref = reference(s, in, c.lengths);
    for (bool training : {false, true}) {
      SCOPED_TRACE(cat("lengths ", vec_str(c.lengths), " state ", c.state, " training ", training));
      Tape::current().clear();
      RnnOutput out;
      if (training) {
        out = run(s, make_vars(in, true), c.lengths);
        EXPECT_TRUE(out.seq->requires_grad);
      } else {
        NoGradScope ng;
        out = run(s, make_vars(in, false), c.lengths);
        EXPECT_FALSE(out.seq->requires_grad);
      }
      // oneDNN computes in float: 1e-5 on values of size <= 1 after a few steps.
      expect_close(out.seq->value, ref.seq, 1e-5, "seq");
      expect_close(out.h_last->value, ref.h, 1e-5, "h_last");
      if (cell == CellType::LSTM) {
        expect_close(out.c_last->value, ref.c, 1e-5, "c_last");
      } else {
        EXPECT_FALSE(out.c_last);
      }
      Tape::current().clear();
    }
  }
}

// ---- Gradients vs finite differences -------------------------------------------------

// Seeds the chosen outputs with fixed random tensors R and checks d(sum R * out)/d(input)
// against central differences, for every input element (h0, c0 included when given).
void check_gradients(const RnnLayerSpec& s, int64_t T, int64_t N, const std::vector<int>& lengths, bool seed_seq,
                     bool seed_h, bool seed_c) {
  SCOPED_TRACE(cat("lengths ", vec_str(lengths), " seeds seq/h/c ", seed_seq, seed_h, seed_c));
  const bool lstm = s.cell == CellType::LSTM;
  const Inputs in = make_inputs(s, T, N, 11, true);
  const int64_t D = rnn_directions(s), H = s.hidden_dim;
  const Tensor rs = random_tensor({T, N, D * H}, 101), rh = random_tensor({D, N, H}, 102),
               rc = random_tensor({D, N, H}, 103);
  auto loss = [&](const RnnOutput& o) {
    double l = 0;
    for (int64_t i = 0; seed_seq && i < rs.numel(); ++i) l += double(o.seq->value[i]) * rs[i];
    for (int64_t i = 0; seed_h && i < rh.numel(); ++i) l += double(o.h_last->value[i]) * rh[i];
    for (int64_t i = 0; seed_c && lstm && i < rc.numel(); ++i) l += double(o.c_last->value[i]) * rc[i];
    return l;
  };

  Tape& tape = Tape::current();
  tape.clear();
  std::vector<Var> v = make_vars(in, true);
  RnnOutput out = run(s, v, lengths);
  if (seed_seq) out.seq->grad = rs.clone();
  if (seed_h) out.h_last->grad = rh.clone();
  if (seed_c && lstm) out.c_last->grad = rc.clone();
  // Replay: seed the last output with zeros (the gradients above are already in place).
  tape.backward(out.h_last, Tensor::zeros(out.h_last->value.shape()));

  // eps 1e-2 in float inputs; the loss is accumulated in double from float outputs, so the
  // numeric derivative carries ~1e-5 rounding noise plus O(eps^2) truncation (< 1e-4 here);
  // atol 1e-3 + 1e-2 relative leaves a margin while a wrong gate/layout gives O(0.1) errors.
  const double eps = 1e-2, atol = 1e-3, rtol = 1e-2;
  const char* names[] = {"x", "w_layer", "w_iter", "bias", "h0", "c0"};
  for (size_t k = 0; k < v.size(); ++k) {
    if (!v[k]) continue;
    std::vector<Var> probe = make_vars(in, false);
    Tensor& p = probe[k]->value;
    const Tensor analytic = v[k]->grad.empty() ? Tensor::zeros(p.shape()) : v[k]->grad;
    for (int64_t i = 0; i < p.numel(); ++i) {
      const float orig = p[i];
      NoGradScope ng;
      p[i] = orig + static_cast<float>(eps);
      const double lp = loss(run(s, probe, lengths));
      p[i] = orig - static_cast<float>(eps);
      const double lm = loss(run(s, probe, lengths));
      p[i] = orig;
      const double numeric = (lp - lm) / (2 * eps);
      ASSERT_NEAR(analytic[i], numeric, atol + rtol * std::fabs(numeric)) << names[k] << " element " << i;
    }
  }
}

void check_gradient(CellType cell, bool bi) {
  const RnnLayerSpec s = spec_of(cell, bi);
  check_gradients(s, 3, 3, {3, 1, 2}, true, true, true);                             // every output seeded, ragged
  check_gradients(s, 3, 2, {}, true, false, false);                                  // seq only, dense
  check_gradients(s, 3, 3, {2, 3, 2}, false, true, false);                           // h_last only, ragged
  if (cell == CellType::LSTM) check_gradients(s, 3, 2, {1, 3}, false, false, true);  // c_last only
}

// ---- Padding invariance ----------------------------------------------------------------

struct Grads {
  RnnOutput out;
  std::vector<Tensor> g;  // x, wl, wi, b, h0, c0 (empty when absent)
};

Grads forward_backward(const RnnLayerSpec& s, const Inputs& in, const std::vector<int>& lengths, const Tensor& rs,
                       const Tensor& rh, const Tensor& rc) {
  Tape& tape = Tape::current();
  tape.clear();
  std::vector<Var> v = make_vars(in, true);
  Grads r;
  r.out = run(s, v, lengths);
  r.out.seq->grad = rs.clone();
  if (r.out.c_last) r.out.c_last->grad = rc.clone();
  tape.backward(r.out.h_last, rh);
  for (const Var& x : v) r.g.push_back(!x ? Tensor() : x->grad.empty() ? Tensor::zeros(x->value.shape()) : x->grad);
  return r;
}

// The slice [0, L) x {n} of a [T, N, C] tensor, as [L, 1, C].
Tensor sentence(const Tensor& t, int64_t n, int64_t L) {
  const int64_t N = t.dim(1), C = t.dim(2);
  Tensor out({L, 1, C});
  for (int64_t l = 0; l < L; ++l)
    for (int64_t c = 0; c < C; ++c) out[l * C + c] = t[(l * N + n) * C + c];
  return out;
}

void check_padding(CellType cell, bool bi) {
  const RnnLayerSpec s = spec_of(cell, bi);
  const bool lstm = cell == CellType::LSTM;
  const int64_t T = 5, N = 4, D = rnn_directions(s), H = s.hidden_dim;
  for (const std::vector<int>& lengths : {std::vector<int>{5, 3, 2, 5}, std::vector<int>{3, 3, 3, 3}}) {
    SCOPED_TRACE(cat("lengths ", vec_str(lengths)));
    Inputs batch = make_inputs(s, T, N, 21, true);
    // Garbage in the padding: it must not leak anywhere.
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = lengths[n]; t < T; ++t)
        for (int64_t i = 0; i < s.input_dim; ++i) batch.x[(t * N + n) * s.input_dim + i] = 50.f * (i + 1);
    // Output gradients everywhere, padding included (seq is constant zero there).
    const Tensor rs = random_tensor({T, N, D * H}, 31), rh = random_tensor({D, N, H}, 32),
                 rc = random_tensor({D, N, H}, 33);
    const Grads all = forward_backward(s, batch, lengths, rs, rh, rc);

    std::vector<Tensor> param_sum = {Tensor::zeros(batch.wl.shape()), Tensor::zeros(batch.wi.shape()),
                                     Tensor::zeros(batch.b.shape())};
    for (int64_t n = 0; n < N; ++n) {
      SCOPED_TRACE(cat("sentence ", n));
      const int64_t L = lengths[n];
      Inputs one = batch;
      one.x = sentence(batch.x, n, L);
      one.h0 = sentence(batch.h0.reshape({D, N, H}), n, D).reshape({D, 1, H});
      if (lstm) one.c0 = sentence(batch.c0, n, D).reshape({D, 1, H});
      const Grads alone = forward_backward(s, one, {}, sentence(rs, n, L), sentence(rh, n, D), sentence(rc, n, D));
      // Outputs: equal at t < L, zero at t >= L.
      Tensor seq_n = sentence(all.out.seq->value, n, T);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < D * H; ++k) {
          const float want = t < L ? alone.out.seq->value[t * D * H + k] : 0.f;
          ASSERT_NEAR(seq_n[t * D * H + k], want, 1e-5) << "seq t " << t << " k " << k;
        }
      expect_close(sentence(all.out.h_last->value, n, D), alone.out.h_last->value.reshape({D, 1, H}), 1e-5, "h_last");
      if (lstm)
        expect_close(sentence(all.out.c_last->value, n, D), alone.out.c_last->value.reshape({D, 1, H}), 1e-5, "c_last");
      // Input gradients: equal at t < L, zero in the padding.
      Tensor gx = sentence(all.g[0], n, T);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < s.input_dim; ++i) {
          const float want = t < L ? alone.g[0][t * s.input_dim + i] : 0.f;
          ASSERT_NEAR(gx[t * s.input_dim + i], want, 1e-5) << "dx t " << t << " i " << i;
        }
      expect_close(sentence(all.g[4], n, D), alone.g[4], 1e-5, "dh0");
      if (lstm) expect_close(sentence(all.g[5], n, D), alone.g[5], 1e-5, "dc0");
      for (int k = 0; k < 3; ++k)
        for (int64_t i = 0; i < param_sum[k].numel(); ++i) param_sum[k][i] += alone.g[1 + k][i];
    }
    // Parameter gradients: the batch's are the sum of the sentences' own.
    expect_close(all.g[1], param_sum[0], 1e-5, "d w_layer");
    expect_close(all.g[2], param_sum[1], 1e-5, "d w_iter");
    expect_close(all.g[3], param_sum[2], 1e-5, "d bias");
  }
  Tape::current().clear();
}

// --rnn-recompute: the forward keeps no workspace and the backward rebuilds it; outputs and
// every gradient equal those of the plain run (ragged lengths: several groups).
void check_recompute(CellType cell, bool bi) {
  const RnnLayerSpec s = spec_of(cell, bi);
  const int64_t T = 5, N = 4, D = rnn_directions(s), H = s.hidden_dim;
  const Inputs in = make_inputs(s, T, N, 41, true);
  const Tensor rs = random_tensor({T, N, D * H}, 42), rh = random_tensor({D, N, H}, 43),
               rc = random_tensor({D, N, H}, 44);
  for (const std::vector<int>& lengths : {std::vector<int>{5, 3, 2, 5}, std::vector<int>{}}) {
    SCOPED_TRACE(cat("lengths ", vec_str(lengths)));
    const Grads plain = forward_backward(s, in, lengths, rs, rh, rc);
    Grads again, pieces;
    {
      RnnRecomputeScope scope(true);
      EXPECT_TRUE(rnn_recompute_active());
      again = forward_backward(s, in, lengths, rs, rh, rc);
    }
    {
      RnnRecomputeScope scope(true, 3);  // one sentence at a time
      pieces = forward_backward(s, in, lengths, rs, rh, rc);
    }
    EXPECT_FALSE(rnn_recompute_active());
    // What the forward leaves allocated for the backward: no workspace with the scope.
    auto held_after_forward = [&](bool on) {
      RnnRecomputeScope scope(on);
      Tape::current().clear();
      std::vector<Var> v = make_vars(in, true);
      const size_t before = pool_bytes_in_use();
      RnnOutput out = run(s, v, lengths);
      const size_t held = pool_bytes_in_use() - before;
      Tape::current().clear();
      return held;
    };
    EXPECT_LT(held_after_forward(true), held_after_forward(false));
    expect_close(again.out.seq->value, plain.out.seq->value, 1e-6, "seq");
    expect_close(again.out.h_last->value, plain.out.h_last->value, 1e-6, "h_last");
    for (size_t k = 0; k < plain.g.size(); ++k)
      if (!plain.g[k].empty()) {
        expect_close(again.g[k], plain.g[k], 1e-6, cat("gradient of input ", k));
        expect_close(pieces.g[k], plain.g[k], 1e-5, cat("gradient of input ", k, ", sentence by sentence"));
      }
  }
  Tape::current().clear();
}

// bf16 primitives (RnnMode::bf16, under a Bf16Scope): outputs and every gradient within the
// rounding of bfloat16 inputs (8 significant bits) of the fp32 ones, and not equal to them (the
// bf16 path ran). Ragged lengths (several groups), dense, and single steps (plain weights).
void check_bf16(CellType cell, bool bi) {
  if (bf16_support() != Bf16Support::native)
    GTEST_SKIP() << "no native bfloat16 on this CPU (" << onednn_isa_name() << ")";
  const RnnLayerSpec s = spec_of(cell, bi, 24, 32);
  for (const int64_t T : {5, 1}) {
    const int64_t N = 4, D = rnn_directions(s), H = s.hidden_dim;
    const std::vector<int> lengths = T == 5 ? std::vector<int>{5, 3, 2, 5} : std::vector<int>{};
    SCOPED_TRACE(cat("T ", T));
    const Inputs in = make_inputs(s, T, N, 51, true);
    const Tensor rs = random_tensor({T, N, D * H}, 52), rh = random_tensor({D, N, H}, 53),
                 rc = random_tensor({D, N, H}, 54);
    const Grads f32 = forward_backward(s, in, lengths, rs, rh, rc);
    Grads b16, b16_recomputed;
    {
      Bf16Scope scope(true, nullptr);
      ASSERT_TRUE(rnn_bf16_active());
      b16 = forward_backward(s, in, lengths, rs, rh, rc);
      RnnRecomputeScope recompute(true, 3);  // --rnn-recompute rebuilds the bf16 workspaces
      b16_recomputed = forward_backward(s, in, lengths, rs, rh, rc);
    }
    for (size_t k = 0; k < b16.g.size(); ++k)
      if (!b16.g[k].empty()) expect_close(b16_recomputed.g[k], b16.g[k], 1e-5, cat("recomputed gradient ", k));
    // Max-norm relative error: bf16 rounds each input to 2^-9 relative; the errors add up over
    // the sum of a product and through the steps.
    auto rel_error = [](const Tensor& got, const Tensor& want) {
      double diff = 0, scale = 0;
      for (int64_t i = 0; i < want.numel(); ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - want[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
      }
      return diff / scale;
    };
    std::vector<std::pair<std::string, std::pair<Tensor, Tensor>>> pairs = {
        {"seq", {b16.out.seq->value, f32.out.seq->value}}, {"h_last", {b16.out.h_last->value, f32.out.h_last->value}}};
    const char* names[] = {"dx", "d w_layer", "d w_iter", "d bias", "dh0", "dc0"};
    for (size_t k = 0; k < f32.g.size(); ++k)
      if (!f32.g[k].empty()) pairs.push_back({names[k], {b16.g[k], f32.g[k]}});
    for (const auto& [what, p] : pairs) {
      const double e = rel_error(p.first, p.second);
      EXPECT_GT(e, 0.0) << what << ": bf16 equals fp32 exactly (did the bf16 primitives run?)";
      EXPECT_LT(e, 0.03) << what;
    }
  }
  Tape::current().clear();
}

#define RNN_TESTS_FOR(Name, cell, bi)                     \
  TEST(RnnForward, Name) { check_forward(cell, bi); }     \
  TEST(RnnGradient, Name) { check_gradient(cell, bi); }   \
  TEST(RnnPadding, Name) { check_padding(cell, bi); }     \
  TEST(RnnRecompute, Name) { check_recompute(cell, bi); } \
  TEST(RnnBf16, Name) { check_bf16(cell, bi); }

RNN_TESTS_FOR(TanhUnidirectional, CellType::Tanh, false)
RNN_TESTS_FOR(TanhBidirectional, CellType::Tanh, true)
RNN_TESTS_FOR(LstmUnidirectional, CellType::LSTM, false)
RNN_TESTS_FOR(LstmBidirectional, CellType::LSTM, true)
RNN_TESTS_FOR(GruUnidirectional, CellType::GRU, false)
RNN_TESTS_FOR(GruBidirectional, CellType::GRU, true)

// ---- Single steps (decoding) -------------------------------------------------------------

TEST(RnnSteps, StepByStepEqualsFullSequence) {
  for (CellType cell : {CellType::Tanh, CellType::LSTM, CellType::GRU}) {
    SCOPED_TRACE(cell_name(cell));
    const RnnLayerSpec s = spec_of(cell, false);
    const int64_t T = 5, N = 3, I = s.input_dim;
    const Inputs in = make_inputs(s, T, N, 41, true);
    for (bool training : {false, true}) {
      SCOPED_TRACE(cat("training ", training));
      // Full sequence.
      const Grads full = [&] {
        if (training) {
          const Tensor rs = random_tensor({T, N, s.hidden_dim}, 51);
          return forward_backward(s, in, {}, rs, Tensor::zeros({1, N, s.hidden_dim}),
                                  Tensor::zeros({1, N, s.hidden_dim}));
        }
        NoGradScope ng;
        Grads g;
        g.out = run(s, make_vars(in, false), {});
        return g;
      }();
      // One step at a time, feeding the states back.
      std::unique_ptr<NoGradScope> ng(training ? nullptr : new NoGradScope);
      Tape::current().clear();
      std::vector<Var> v = make_vars(in, training);
      Var h = v[4], c = v[5];
      std::vector<Var> steps;
      for (int64_t t = 0; t < T; ++t) {
        Tensor xt({1, N, I});
        for (int64_t i = 0; i < N * I; ++i) xt[i] = in.x[t * N * I + i];
        RnnOutput o = rnn_layer(s, leaf(xt, training), {}, v[1], v[2], v[3], h, c);
        h = o.h_last;
        c = o.c_last;
        steps.push_back(o.seq);
        for (int64_t i = 0; i < N * s.hidden_dim; ++i)
          ASSERT_NEAR(o.seq->value[i], full.out.seq->value[t * N * s.hidden_dim + i], 1e-5) << "t " << t;
      }
      for (int64_t i = 0; i < h->value.numel(); ++i) ASSERT_NEAR(h->value[i], full.out.h_last->value[i], 1e-5);
      if (training) {
        // Gradients through the chain of steps equal those of the full call.
        const Tensor rs = random_tensor({T, N, s.hidden_dim}, 51);
        for (int64_t t = 0; t < T; ++t) {
          Tensor g({1, N, s.hidden_dim});
          for (int64_t i = 0; i < g.numel(); ++i) g[i] = rs[t * g.numel() + i];
          steps[t]->grad = g;
        }
        Tape::current().backward(h, Tensor::zeros(h->value.shape()));
        for (int k = 1; k < 6; ++k)
          if (v[k]) expect_close(v[k]->grad, full.g[k], 1e-5, cat("gradient of input ", k));
      }
    }
  }
  Tape::current().clear();
}

// Single steps (T = 1) must use the parameters and their gradients in place: no reorder of
// the forward weights, no scratch for the weight gradients. Checked at sizes where oneDNN
// would otherwise pick padded or blocked layouts (H = 64, 512).
TEST(RnnSteps, SingleStepsUsePlainParameterLayouts) {
  auto md = [](const RnnPrimitives& p, bool bwd, int arg) {
    return (bwd ? p.bwd_pd : p.fwd_pd).query_md(dnnl::query::exec_arg_md, arg);
  };
  for (CellType cell : {CellType::Tanh, CellType::LSTM, CellType::GRU})
    for (bool bi : {false, true})
      for (int64_t H : {4, 64, 512})
        for (bool training : {false, true}) {
          SCOPED_TRACE(cat(cell_name(cell), " bi ", bi, " H ", H, " training ", training));
          const RnnLayerSpec s = spec_of(cell, bi, 16, H);
          const RnnPrimitives& p = rnn_primitives(s, 1, 5, RnnMode{training, true});
          EXPECT_TRUE(md(p, false, DNNL_ARG_WEIGHTS_LAYER) == rnn_weights_layer_md(s));
          EXPECT_TRUE(md(p, false, DNNL_ARG_WEIGHTS_ITER) == rnn_weights_iter_md(s));
          EXPECT_TRUE(md(p, false, DNNL_ARG_BIAS) == rnn_bias_md(s));
          if (!training) continue;
          EXPECT_TRUE(md(p, true, DNNL_ARG_DIFF_WEIGHTS_LAYER) == rnn_weights_layer_md(s));
          EXPECT_TRUE(md(p, true, DNNL_ARG_DIFF_WEIGHTS_ITER) == rnn_weights_iter_md(s));
          EXPECT_TRUE(md(p, true, DNNL_ARG_DIFF_BIAS) == rnn_bias_md(s));
        }
  // Longer sequences in training let oneDNN choose: for LSTM H = 64 it pads the weights'
  // leading dimension, which is what check_accumulates relies on to test the scratch path.
  const RnnLayerSpec s = spec_of(CellType::LSTM, false, 3, 64);
  EXPECT_FALSE(md(rnn_primitives(s, 3, 2, RnnMode{true, false}), true, DNNL_ARG_DIFF_WEIGHTS_ITER) ==
               rnn_weights_iter_md(s));
}

// ---- Accumulation and layouts that need reorders -------------------------------------------

// Parameters whose gradients already hold values: the op must add (+=), and with H = 64
// oneDNN picks padded layouts for the weights and their gradients (scratch + summing reorder),
// with H = 4 it writes straight into the plain gradients. Checked against FD along one random
// direction per input (a full FD over 64x4x64 weights would be slow).
void check_accumulates(const RnnLayerSpec& s) {
  SCOPED_TRACE(cat(cell_name(s.cell), " H ", s.hidden_dim, " bi ", s.bidirectional));
  const int64_t T = 3, N = 2, D = rnn_directions(s), H = s.hidden_dim;
  const Inputs in = make_inputs(s, T, N, 61, true);
  const std::vector<int> lengths = {3, 2};
  // Forward against the naive loop (both the training and inference paths reorder here).
  {
    const RefOut ref = reference(s, in, lengths);
    NoGradScope ng;
    expect_close(run(s, make_vars(in, false), lengths).seq->value, ref.seq, 1e-5, "inference seq");
  }
  const Tensor rs = random_tensor({T, N, D * H}, 71), rh = random_tensor({D, N, H}, 72),
               rc = random_tensor({D, N, H}, 73);
  Tape::current().clear();
  std::vector<Var> v;
  for (const Tensor& t : as_list(in))
    v.push_back(t.empty() ? Var() : param_leaf(t.clone(), Tensor::full(t.shape(), 0.25f)));
  RnnOutput out = run(s, v, lengths);
  {
    const RefOut ref = reference(s, in, lengths);
    expect_close(out.seq->value, ref.seq, 1e-5, "training seq");
  }
  out.seq->grad = rs.clone();
  if (out.c_last) out.c_last->grad = rc.clone();
  Tape::current().backward(out.h_last, rh);

  auto loss = [&](const std::vector<Var>& probe) {
    NoGradScope ng;
    RnnOutput o = run(s, probe, lengths);
    double l = 0;
    for (int64_t i = 0; i < rs.numel(); ++i) l += double(o.seq->value[i]) * rs[i];
    for (int64_t i = 0; i < rh.numel(); ++i) l += double(o.h_last->value[i]) * rh[i];
    if (o.c_last)
      for (int64_t i = 0; i < rc.numel(); ++i) l += double(o.c_last->value[i]) * rc[i];
    return l;
  };
  for (size_t k = 0; k < v.size(); ++k) {
    if (!v[k]) continue;
    const Tensor dir = random_tensor(v[k]->value.shape(), 80 + k);
    double analytic = 0;
    for (int64_t i = 0; i < dir.numel(); ++i) analytic += double(v[k]->grad[i] - 0.25f) * dir[i];
    // The step moves every element at once, so it must be smaller than in check_gradients.
    const double eps = 1e-3;
    std::vector<Var> probe = make_vars(in, false);
    Tensor& p = probe[k]->value;
    const Tensor base = as_list(in)[k];
    for (int64_t i = 0; i < p.numel(); ++i) p[i] = base[i] + eps * dir[i];
    const double lp = loss(probe);
    for (int64_t i = 0; i < p.numel(); ++i) p[i] = base[i] - eps * dir[i];
    const double lm = loss(probe);
    const double numeric = (lp - lm) / (2 * eps);
    // A directional derivative sums thousands of terms: 1e-2 relative (+1e-3) allows for
    // float rounding (~1e-5 / eps) and eps^2 truncation; a missed accumulation adds 0.25 per
    // element (O(1) here) and a layout error scrambles the sum.
    EXPECT_NEAR(analytic, numeric, 1e-3 + 1e-2 * std::fabs(numeric)) << "input " << k;
  }
  Tape::current().clear();
}

TEST(RnnGradient, AccumulatesIntoExistingGradients) {
  for (CellType cell : {CellType::Tanh, CellType::LSTM, CellType::GRU})
    for (bool bi : {false, true})
      for (int64_t H : {4, 64}) check_accumulates(spec_of(cell, bi, 3, H));
}

// ---- Error paths -------------------------------------------------------------------------

void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(RnnErrors, BadShapesThrowWithShapes) {
  const RnnLayerSpec s = spec_of(CellType::LSTM, true);
  const Inputs in = make_inputs(s, 3, 2, 91, true);
  auto call = [&](Inputs bad, std::vector<int> lengths = {}) {
    return [=] {
      std::vector<Var> v = make_vars(bad, false);
      run(s, v, lengths);
    };
  };
  Inputs x2 = in;
  x2.x = Tensor({3, 3});
  expect_error(call(x2), "[3, 3]");
  Inputs xi = in;
  xi.x = Tensor({3, 2, 5});
  expect_error(call(xi), "[3, 2, 5]");
  Inputs wl = in;
  wl.wl = Tensor({2, 3, 3, 4});
  expect_error(call(wl), "w_layer has shape [2, 3, 3, 4], expected [2, 3, 4, 4]");
  Inputs wi = in;
  wi.wi = Tensor({1, 4, 4, 4});
  expect_error(call(wi), "w_iter has shape [1, 4, 4, 4], expected [2, 4, 4, 4]");
  Inputs b = in;
  b.b = Tensor({2, 3, 4});
  expect_error(call(b), "bias has shape [2, 3, 4], expected [2, 4, 4]");
  Inputs h0 = in;
  h0.h0 = Tensor({2, 3, 4});
  expect_error(call(h0), "h0 has shape [2, 3, 4], expected [2, 2, 4]");
  Inputs c0 = in;
  c0.c0 = Tensor({1, 2, 4});
  expect_error(call(c0), "c0 has shape [1, 2, 4], expected [2, 2, 4]");
  expect_error(call(in, {3}), "1 lengths for a batch of 2");
  expect_error(call(in, {3, 0}), "length 0 of sentence 1 is outside 1..3");
  expect_error(call(in, {4, 1}), "length 4 of sentence 0 is outside 1..3");

  const RnnLayerSpec g = spec_of(CellType::GRU, false);
  Inputs gin = make_inputs(g, 3, 2, 92, true);
  gin.c0 = Tensor::zeros({1, 2, 4});
  expect_error([&] { run(g, make_vars(gin, false), {}); }, "c0 given (shape [1, 2, 4]) for a gru cell");
  EXPECT_EQ(rnn_bias_shape(g), (Shape{1, 4, 4}));  // linear-before-reset GRU: 4 bias rows
}

}  // namespace
}  // namespace nmt
