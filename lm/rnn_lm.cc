#include "lm/rnn_lm.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "ops/add.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

namespace nmt {
namespace {

Init uniform(int64_t fan_in) { return Init{Init::Uniform, 1.0f / std::sqrt(static_cast<float>(fan_in))}; }

// Rows `rows` of t [1, R, H].
Tensor take_state_rows(const Tensor& t, const std::vector<int32_t>& rows) {
  const int64_t R = t.dim(1), H = t.dim(2), n = static_cast<int64_t>(rows.size());
  Tensor out({1, n, H});
  for (int64_t i = 0; i < n; ++i) {
    if (rows[i] < 0 || rows[i] >= R) throw Error(cat("RnnLmState::select: row ", rows[i], " of ", R));
    std::memcpy(out.data() + i * H, t.data() + rows[i] * H, H * sizeof(float));
  }
  return out;
}

// Column w of ids [R, W] (batch-major).
std::vector<int32_t> column(const std::vector<int32_t>& ids, int64_t R, int64_t W, int64_t w) {
  std::vector<int32_t> out(R);
  for (int64_t r = 0; r < R; ++r) out[r] = ids[r * W + w];
  return out;
}

}  // namespace

void RnnLmState::select(const std::vector<int32_t>& rows) {
  for (Tensor& t : h) t = take_state_rows(t, rows);
  for (Tensor& t : c) t = take_state_rows(t, rows);
}

std::vector<Tensor*> RnnLmState::carried() {
  std::vector<Tensor*> out;
  for (Tensor& t : h) out.push_back(&t);
  for (Tensor& t : c) out.push_back(&t);
  return out;
}

RnnLanguageModel::RnnLanguageModel(const ModelConfig& config, uint64_t seed) : LanguageModel(config) {
  // Embeddings (tied to the output layer) uniform in +-0.1, as in Zaremba et al. and PyTorch's
  // word language model. A tanh RNN LM is sensitive to it: with N(0, 1/dim-emb), 23% smaller,
  // the 2 x 512 tanh LM on en-sw stalled at a training perplexity of about 1,400 from update
  // 20 to 50 while the same model with +-0.1 went on to about 950 (docs/benchmarks.md).
  const Var emb = add_embeddings(Init::uniform(0.1f));
  const CellType cell = parse_cell(config_.cell);
  const int64_t H = config_.dim_rnn, E = config_.dim_emb;
  int64_t input = E;
  for (int l = 0; l < config_.dec_depth; ++l) {
    Layer layer;
    layer.spec = RnnLayerSpec{cell, false, input, H};
    const std::string p = cat("lm.l", l, ".");
    layer.w_layer = params_.add(p + "w_layer", rnn_weights_layer_shape(layer.spec), uniform(H));
    layer.w_iter = params_.add(p + "w_iter", rnn_weights_iter_shape(layer.spec), uniform(H));
    layer.bias = params_.add(p + "bias", rnn_bias_shape(layer.spec), uniform(H));
    layers_.push_back(layer);
    input = H;
  }
  const bool tied = config_.tied_embeddings;
  dim_out_ = H;
  if (tied && H != E) {
    proj_w_ = params_.add("lm.projection.w", {E, H}, uniform(H));
    proj_b_ = params_.add("lm.projection.b", {E}, Init{Init::Zeros, 0});
    dim_out_ = E;
  }
  output_ = std::make_unique<OutputLayer>(params_, "lm.output", config_.trg_vocab_size, dim_out_, tied ? emb : Var());
  finish(seed);
}

Var RnnLanguageModel::project(const Var& h) const { return proj_w_ ? linear(h, proj_w_, proj_b_) : h; }

Var RnnLanguageModel::hidden(const TargetBatch& b, RnnLmState* st, bool training, Rng& rng) const {
  if (st) {
    if (st->rows() != b.batch)
      throw Error(cat("RnnLanguageModel: a state of ", st->rows(), " rows for a batch of ", b.batch));
    for (int len : b.lengths)
      if (len != b.length) throw Error(cat("RnnLanguageModel: a row of ", len, " of ", b.length, " carries a state"));
  }
  const float p = config_.dropout;
  Var y = dropout(embedding(embeddings_, b.time_major_input(), {b.length, b.batch}), p, training, rng);
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const Var h0 = st ? leaf(st->h[l]) : Var();  // a leaf: the carried state is a constant here
    const Var c0 = st && lstm() ? leaf(st->c[l]) : Var();
    // Right padding needs no lengths: no real position sees a later one, and the loss skips padding.
    RnnOutput r = rnn_layer(layer.spec, y, {}, layer.w_layer, layer.w_iter, layer.bias, h0, c0);
    if (st) {
      st->h[l] = r.h_last->value;
      if (lstm()) st->c[l] = r.c_last->value;
    }
    y = dropout(r.seq, p, training, rng);
  }
  y = transpose(y, {1, 0, 2});  // [N, T, H]
  return project(reshape(y, {b.batch * b.length, config_.dim_rnn}));
}

Var RnnLanguageModel::token_losses(const TargetBatch& batch, LmState* state, float label_smoothing, bool training,
                                   Rng& rng) {
  return output_->losses(hidden(batch, static_cast<RnnLmState*>(state), training, rng), batch.output, label_smoothing);
}

Var RnnLanguageModel::logits(const TargetBatch& batch, LmState* state) {
  NoGradScope no_grad;
  Rng unused(0);
  return output_->logits(hidden(batch, static_cast<RnnLmState*>(state), false, unused));
}

std::unique_ptr<LmState> RnnLanguageModel::start(int64_t rows) { return zero_state(rows); }

std::unique_ptr<RnnLmState> RnnLanguageModel::zero_state(int64_t rows) const {
  auto st = std::make_unique<RnnLmState>();
  for (size_t l = 0; l < layers_.size(); ++l) {
    st->h.push_back(Tensor::zeros({1, rows, config_.dim_rnn}));
    if (lstm()) st->c.push_back(Tensor::zeros({1, rows, config_.dim_rnn}));
  }
  return st;
}

Var RnnLanguageModel::step_layers(Var x, std::vector<Var>& h, std::vector<Var>& c, std::vector<Var>* probes) const {
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    RnnOutput r = rnn_layer(layer.spec, x, {}, layer.w_layer, layer.w_iter, layer.bias, h[l], c[l]);
    Var next = r.h_last;  // [1, R, H], equal to r.seq for one step of one direction
    if (probes) {
      probes->push_back(leaf(Tensor::zeros(next->value.shape()), true));
      next = add(next, probes->back());
    }
    h[l] = next;
    c[l] = r.c_last;
    x = next;
  }
  return x;
}

Var RnnLanguageModel::step(LmState& state, const std::vector<int32_t>& previous) {
  NoGradScope no_grad;
  auto& st = static_cast<RnnLmState&>(state);
  const int64_t R = static_cast<int64_t>(previous.size());
  if (R != st.rows()) throw Error(cat("RnnLanguageModel::step: ", R, " previous tokens for a state of ", st.rows()));
  std::vector<Var> h, c;
  for (size_t l = 0; l < layers_.size(); ++l) {
    h.push_back(leaf(st.h[l]));
    c.push_back(lstm() ? leaf(st.c[l]) : Var());
  }
  const Var y = step_layers(embedding(embeddings_, previous, {1, R}), h, c, nullptr);
  for (size_t l = 0; l < layers_.size(); ++l) {
    st.h[l] = h[l]->value;
    if (lstm()) st.c[l] = c[l]->value;
  }
  return output_->logits(project(reshape(y, {R, config_.dim_rnn})));
}

std::unique_ptr<LmState> RnnLanguageModel::stack(const std::vector<const LmState*>& states) const {
  int64_t R = 0;
  for (const LmState* s : states) R += s->rows();
  std::unique_ptr<RnnLmState> out = zero_state(R);
  const int64_t H = config_.dim_rnn;
  int64_t at = 0;
  for (const LmState* s : states) {
    const auto& st = static_cast<const RnnLmState&>(*s);
    for (size_t l = 0; l < layers_.size(); ++l) {
      std::memcpy(out->h[l].data() + at * H, st.h[l].data(), st.rows() * H * sizeof(float));
      if (lstm()) std::memcpy(out->c[l].data() + at * H, st.c[l].data(), st.rows() * H * sizeof(float));
    }
    at += st.rows();
  }
  return out;
}

Tensor RnnLanguageModel::state_gradient_norms(const std::vector<int32_t>& inputs, int64_t R, int64_t W,
                                              const std::vector<int32_t>& targets, const LmState& start) {
  const auto& st = static_cast<const RnnLmState&>(start);
  if (st.rows() != R || static_cast<int64_t>(inputs.size()) != R * W || static_cast<int64_t>(targets.size()) != R)
    throw Error(cat("state_gradient_norms: ", inputs.size(), " inputs, ", targets.size(), " targets and a state of ",
                    st.rows(), " rows for ", R, " rows of ", W));
  std::vector<Var> h, c;
  for (size_t l = 0; l < layers_.size(); ++l) {
    h.push_back(leaf(st.h[l]));
    c.push_back(lstm() ? leaf(st.c[l]) : Var());
  }
  std::vector<std::vector<Var>> probes(W);  // [w][layer]
  Var y;
  for (int64_t w = 0; w < W; ++w)
    y = step_layers(embedding(embeddings_, column(inputs, R, W, w), {1, R}), h, c, &probes[w]);
  const Var losses = output_->losses(project(reshape(y, {R, config_.dim_rnn})), targets, 0.0f);
  Tape::current().backward(sum(losses));
  const int64_t H = config_.dim_rnn;
  Tensor norms = Tensor::zeros({R, W});
  for (int64_t w = 0; w < W; ++w)
    for (const Var& e : probes[w]) {
      if (e->grad.empty()) continue;
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < H; ++j) norms[r * W + w] += e->grad[r * H + j] * e->grad[r * H + j];
    }
  for (int64_t i = 0; i < R * W; ++i) norms[i] = std::sqrt(norms[i]);
  params_.zero_grads();
  return norms;
}

}  // namespace nmt
