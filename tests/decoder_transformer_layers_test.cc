// Transformer layers (layers/transformer_blocks.h, encoder/transformer_encoder.h,
// decoder/transformer_decoder.h): gradients of whole pre-norm and post-norm layers and of
// the embedding + position path through the Var ops, and the sinusoidal table.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/error.h"
#include "decoder/sentence_rows.h"
#include "decoder/transformer_decoder.h"
#include "encoder/transformer_encoder.h"
#include "gradcheck.h"
#include "ops/positions.h"
#include "transformer_helpers.h"

namespace nmt {
namespace {
using testing::expect_gradients_match;
using testing::random_tensor;

using ParamShapes = testing::ParamRecorder;
TransformerConfig tiny(NormPlacement norm) {
  TransformerConfig c;
  c.layers = 2;
  c.dim = 8;
  c.heads = 2;
  c.dim_ffn = 16;
  c.norm = norm;
  c.dropout = 0.f;  // gradient checks need a deterministic function
  c.dropout_attention = 0.f;
  return c;
}

// Layer gradients: every input and parameter (~600-1000 of them) through attention,
// layer norm, ReLU and the residuals, eps 1e-2 central differences on float forward
// passes. The default tolerance (1e-3 + 1% relative) holds: with the ReLUs kept off
// their kink (see ParamRecorder::values in transformer_helpers.h) the layer is smooth and the truncation error of
// the differences stays around 1e-4.
void check_encoder_layer(NormPlacement norm) {
  const TransformerConfig c = tiny(norm);
  const Tensor mask = testing::key_mask({4, 3}, 4);
  ParamShapes p;
  TransformerLayer(p.recorder(), "l", c);
  std::vector<Tensor> inputs{random_tensor({2, 4, 8}, 3)};
  for (Tensor& t : p.values(300)) inputs.push_back(t);
  expect_gradients_match(
      [&](const std::vector<Var>& x) {
        TransformerLayer layer(testing::from_vars(x, 1), "l", c);
        Rng rng(1);
        return layer(x[0], mask, /*causal=*/false, true, rng);
      },
      inputs);
}

TEST(TransformerLayer, PreNormEncoderLayerGradient) { check_encoder_layer(NormPlacement::Pre); }
TEST(TransformerLayer, PostNormEncoderLayerGradient) { check_encoder_layer(NormPlacement::Post); }

void check_decoder_layer(NormPlacement norm) {
  const TransformerConfig c = tiny(norm);
  const Tensor src_mask = testing::key_mask({3, 2}, 3);
  ParamShapes p;
  TransformerDecoderLayer(p.recorder(), "l", c);
  std::vector<Tensor> inputs{random_tensor({2, 4, 8}, 3), random_tensor({2, 3, 8}, 4)};
  for (Tensor& t : p.values(400)) inputs.push_back(t);
  expect_gradients_match(
      [&](const std::vector<Var>& x) {
        TransformerDecoderLayer layer(testing::from_vars(x, 2), "l", c);
        Rng rng(1);
        return layer(x[0], layer.memory(x[1]), src_mask, true, rng);
      },
      inputs);
}

TEST(TransformerLayer, PreNormDecoderLayerGradient) { check_decoder_layer(NormPlacement::Pre); }
TEST(TransformerLayer, PostNormDecoderLayerGradient) { check_decoder_layer(NormPlacement::Post); }

// The decoder layer's step (with its caches) equals its full causal pass, row by row.
TEST(TransformerLayer, DecoderLayerStepEqualsFullPass) {
  for (NormPlacement norm : {NormPlacement::Pre, NormPlacement::Post}) {
    const TransformerConfig c = tiny(norm);
    ParamShapes p;
    TransformerDecoderLayer(p.recorder(), "l", c);
    std::vector<Tensor> values = p.values(500);
    std::vector<Var> vars;
    for (Tensor& t : values) vars.push_back(leaf(t));
    TransformerDecoderLayer layer(testing::from_vars(vars, 0), "l", c);
    NoGradScope ng;
    Rng rng(1);
    const int64_t N = 2, T = 4, d = 8;
    const Tensor src_mask = testing::key_mask({3, 2}, 3);
    Tensor x = random_tensor({N, T, d}, 1);
    Var mem = leaf(random_tensor({N, 3, d}, 2));
    KeysValues kv = layer.memory(mem);
    Tensor full = layer(leaf(x), kv, src_mask, false, rng)->value;
    KeyValueCache cache;
    for (int64_t t = 0; t < T; ++t) {
      Tensor xt({N, 1, d});
      for (int64_t n = 0; n < N; ++n)
        std::copy(x.data() + (n * T + t) * d, x.data() + (n * T + t + 1) * d, xt.data() + n * d);
      Var w;
      Tensor y = layer.step(leaf(xt), cache, kv, src_mask, SentenceRows(N).groups(), &w)->value;
      ASSERT_EQ(w->value.shape(), (Shape{N, 2, 1, 3}));
      for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < d; ++j) EXPECT_NEAR(y[n * d + j], full[(n * T + t) * d + j], 1e-5);
    }
  }
}

// The embedding path with learned positions: dropout(sqrt(d) E[ids] + P[first..]) with
// gradients into the table and the position table (repeated ids and positions add up).
// Linear in both: the default tolerances are loose, float rounding is all there is.
TEST(TransformerEmbedding, LearnedPositionsGradient) {
  TransformerConfig c = tiny(NormPlacement::Pre);
  c.positions = PositionKind::Learned;
  c.max_positions = 6;
  const std::vector<int32_t> ids{1, 4, 4, 0, 2, 3, 1, 0};  // [2, 4]
  expect_gradients_match(
      [&](const std::vector<Var>& x) {
        ParamMaker param = [&](const std::string&, const Shape& shape, Init) {
          EXPECT_EQ(shape, (Shape{6, 8}));
          return x[1];
        };
        TransformerEmbedding emb(param, "e", x[0], c);
        Rng rng(1);
        return emb(ids, 2, 4, 1, true, rng);
      },
      {random_tensor({5, 8}, 1), random_tensor({6, 8}, 2)});
}

TEST(TransformerEmbedding, ScaledEmbeddingPlusSinusoids) {
  TransformerConfig c = tiny(NormPlacement::Pre);
  ParamMaker none = [](const std::string& name, const Shape&, Init) -> Var {
    ADD_FAILURE() << "sinusoidal positions declared a parameter " << name;
    return Var();
  };
  Tensor table = random_tensor({5, 8}, 1);
  TransformerEmbedding emb(none, "e", leaf(table), c);
  NoGradScope ng;
  Rng rng(1);
  const std::vector<int32_t> ids{1, 4, 2};
  Tensor y = emb(ids, 1, 3, 2, false, rng)->value;  // positions 2, 3, 4
  Tensor p = sinusoidal_positions(3, 8, 2);
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t j = 0; j < 8; ++j)
      EXPECT_NEAR(y[t * 8 + j], std::sqrt(8.f) * table[ids[t] * 8 + j] + p[t * 8 + j], 1e-6);
  // Dropout acts in training.
  TransformerConfig cd = c;
  cd.dropout = 0.5f;
  TransformerEmbedding dropped(none, "e", leaf(table), cd);
  Tensor z = dropped(ids, 1, 3, 2, true, rng)->value;
  int zeros = 0;
  for (int64_t i = 0; i < z.numel(); ++i) zeros += z[i] == 0.f;
  EXPECT_GT(zeros, 0);
}

TEST(TransformerEmbedding, LearnedPositionsBeyondTheTableThrow) {
  TransformerConfig c = tiny(NormPlacement::Pre);
  c.positions = PositionKind::Learned;
  c.max_positions = 4;
  ParamShapes p;
  TransformerEmbedding emb(p.recorder(), "e", leaf(Tensor::zeros({5, 8})), c);
  NoGradScope ng;
  Rng rng(1);
  EXPECT_NO_THROW(emb({1, 1, 1, 1}, 1, 4, 0, false, rng));
  EXPECT_THROW(emb({1, 1}, 1, 2, 3, false, rng), InputError);
}

TEST(SinusoidalPositions, MatchFormula) {
  const int64_t d = 8;
  Tensor p = sinusoidal_positions(50, d);
  ASSERT_EQ(p.shape(), (Shape{50, d}));
  for (int64_t j = 0; j < d; ++j) EXPECT_EQ(p[j], j % 2 ? 1.f : 0.f);  // position 0: sin 0, cos 0
  EXPECT_NEAR(p[1 * d + 0], std::sin(1.0), 1e-7);
  EXPECT_NEAR(p[1 * d + 1], std::cos(1.0), 1e-7);
  // p(i, 2k) = sin(i / 10000^(2k/d)), p(i, 2k+1) = cos(...)
  for (int64_t i : {3, 17, 49})
    for (int64_t k = 0; k < d / 2; ++k) {
      const double angle = double(i) / std::pow(10000.0, 2.0 * k / d);
      EXPECT_NEAR(p[i * d + 2 * k], std::sin(angle), 1e-6) << i << " " << k;
      EXPECT_NEAR(p[i * d + 2 * k + 1], std::cos(angle), 1e-6) << i << " " << k;
    }
  // An offset table is a slice of the full one; an odd width ends on a sine.
  Tensor q = sinusoidal_positions(5, d, 40);
  for (int64_t i = 0; i < 5 * d; ++i) EXPECT_EQ(q[i], p[40 * d + i]);
  Tensor odd = sinusoidal_positions(4, 5);
  EXPECT_NEAR(odd[3 * 5 + 4], std::sin(3.0 / std::pow(10000.0, 4.0 / 5)), 1e-6);
  EXPECT_THROW(sinusoidal_positions(-1, 8), Error);
  EXPECT_THROW(sinusoidal_positions(3, 0), Error);
}

TEST(TransformerConfigNames, ParseOrThrowNamingTheOption) {
  EXPECT_THROW(parse_norm_placement("middle"), OptionError);
  EXPECT_THROW(parse_position_kind("rotary"), OptionError);
  EXPECT_EQ(parse_norm_placement("post"), NormPlacement::Post);
  EXPECT_EQ(parse_position_kind("learned"), PositionKind::Learned);
}

}  // namespace
}  // namespace nmt
