// Multi-head attention (layers/multi_head_attention.h): the batched computation against
// a naive per-head loop, gradients through the Var ops (padding mask, causal mask,
// cross-attention), and that masked keys have no influence.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"
#include "decoder/attention_step.h"
#include "gradcheck.h"
#include "layers/multi_head_attention.h"
#include "transformer_helpers.h"

namespace nmt {
namespace {
using testing::expect_gradients_match;
using testing::random_tensor;

// The parameters a module declares, in order, to be fed back as gradient-checked leaves.
struct ParamShapes : testing::ParamRecorder {
  // Random values for each parameter (uniform in [-0.5, 0.5]: keeps softmax inputs moderate).
  std::vector<Tensor> values(uint64_t seed) const {
    std::vector<Tensor> out;
    for (const Shape& s : shapes) out.push_back(random_tensor(s, seed++, -0.5f, 0.5f));
    return out;
  }
};
// Naive attention in double: q [N,H,Tq,D], k, v [N,H,Tk,D].
std::vector<double> naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                    bool causal) {
  const int64_t N = q.dim(0), H = q.dim(1), Tq = q.dim(2), D = q.dim(3), Tk = k.dim(2);
  std::vector<double> out(N * H * Tq * D, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < Tq; ++i) {
        std::vector<double> s(Tk);
        double mx = -1e300;
        for (int64_t j = 0; j < Tk; ++j) {
          const bool keep = (mask.empty() || mask[n * Tk + j] > 0.5f) && (!causal || j <= i + Tk - Tq);
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(q[((n * H + h) * Tq + i) * D + d]) * k[((n * H + h) * Tk + j) * D + d];
          s[j] = keep ? dot / std::sqrt(double(D)) : -1e300;
          mx = std::max(mx, s[j]);
        }
        double z = 0;
        for (double& x : s) z += (x = x <= -1e299 ? 0.0 : std::exp(x - mx));
        for (int64_t j = 0; j < Tk; ++j)
          for (int64_t d = 0; d < D; ++d)
            out[((n * H + h) * Tq + i) * D + d] += s[j] / z * v[((n * H + h) * Tk + j) * D + d];
      }
  return out;
}

TEST(Attention, SplitAndMergeHeads) {
  Tensor x = random_tensor({2, 3, 8}, 1);
  NoGradScope ng;
  Var s = split_heads(leaf(x), 2);
  ASSERT_EQ(s->value.shape(), (Shape{2, 2, 3, 4}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t t = 0; t < 3; ++t)
        for (int64_t d = 0; d < 4; ++d)
          EXPECT_EQ(s->value[((n * 2 + h) * 3 + t) * 4 + d], x[(n * 3 + t) * 8 + h * 4 + d]);
  Var m = merge_heads(s);
  EXPECT_EQ(m->value.to_vector(), x.to_vector());
  EXPECT_THROW(split_heads(leaf(x), 3), Error);
}

TEST(Attention, MatchesNaiveLoopWithPaddingAndCausalMasks) {
  Tensor q = random_tensor({2, 3, 4, 5}, 1), k = random_tensor({2, 3, 4, 5}, 2), v = random_tensor({2, 3, 4, 5}, 3);
  Tensor mask = testing::key_mask({4, 2}, 4);
  NoGradScope ng;
  Rng rng(1);
  for (bool causal : {false, true}) {
    Var w;
    Var out = scaled_dot_product_attention(leaf(q), leaf(k), leaf(v), mask, causal, 0.f, false, rng, &w);
    std::vector<double> ref = naive_attention(q, k, v, mask, causal);
    ASSERT_EQ(out->value.numel(), static_cast<int64_t>(ref.size()));
    for (size_t i = 0; i < ref.size(); ++i)
      EXPECT_NEAR(out->value[i], ref[i], 1e-5) << "causal " << causal << " i " << i;
    // Weights: rows sum to 1, exactly 0 at masked keys.
    for (int64_t r = 0; r < 2 * 3 * 4; ++r) {
      const int64_t n = r / 12, i = r % 4;
      double sum = 0;
      for (int64_t j = 0; j < 4; ++j) {
        const float p = w->value[r * 4 + j];
        sum += p;
        if ((n == 1 && j >= 2) || (causal && j > i)) {
          EXPECT_EQ(p, 0.f);
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  }
  // Fewer queries than keys under the causal mask: the queries are the last positions.
  Tensor q2 = random_tensor({2, 3, 1, 5}, 4);
  Var out = scaled_dot_product_attention(leaf(q2), leaf(k), leaf(v), Tensor(), true, 0.f, false, rng);
  std::vector<double> ref = naive_attention(q2, k, v, Tensor(), true);
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(out->value[i], ref[i], 1e-5);
}

TEST(Attention, ShapeErrorsThrow) {
  Rng rng(1);
  NoGradScope ng;
  EXPECT_THROW(scaled_dot_product_attention(leaf(Tensor({2, 3, 4, 5})), leaf(Tensor({2, 3, 4, 6})),
                                            leaf(Tensor({2, 3, 4, 6})), Tensor(), false, 0.f, false, rng),
               Error);
  ParamShapes p;
  EXPECT_THROW(MultiHeadAttention(p.recorder(), "a", MultiHeadAttention::Kind::Self, 8, 3, 0.f), Error);
  MultiHeadAttention cross(p.recorder(), "c", MultiHeadAttention::Kind::Cross, 8, 2, 0.f);
  EXPECT_THROW(cross.self_attention(leaf(Tensor({1, 2, 8})), Tensor(), false, false, rng), Error);
  EXPECT_THROW(cross.memory_keys_values(leaf(Tensor({1, 2, 6}))), Error);
}

// Gradients of self-attention (inputs and every projection) through the Var ops.
// Tolerances: float forward passes with eps 1e-2 central differences; the softmax's
// curvature gives truncation errors around 1e-4, the defaults (1e-3 + 1% relative) hold.
void check_self_attention(const Tensor& mask, bool causal) {
  const int64_t N = 2, T = 4, d = 8;
  ParamShapes p;
  MultiHeadAttention(p.recorder(), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  std::vector<Tensor> inputs{random_tensor({N, T, d}, 7)};
  for (Tensor& t : p.values(100)) inputs.push_back(t);
  expect_gradients_match(
      [&](const std::vector<Var>& x) {
        MultiHeadAttention att(testing::from_vars(x, 1), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
        Rng rng(1);
        return att.self_attention(x[0], mask, causal, true, rng);
      },
      inputs);
}

TEST(Attention, SelfAttentionGradientWithPaddingMask) { check_self_attention(testing::key_mask({4, 2}, 4), false); }
TEST(Attention, SelfAttentionGradientWithCausalMask) { check_self_attention(Tensor(), true); }
TEST(Attention, SelfAttentionGradientWithBothMasks) { check_self_attention(testing::key_mask({3, 4}, 4), true); }

TEST(Attention, CrossAttentionGradient) {
  const int64_t N = 2, T = 3, S = 4, d = 8;
  const Tensor mask = testing::key_mask({4, 2}, S);
  ParamShapes p;
  MultiHeadAttention(p.recorder(), "att", MultiHeadAttention::Kind::Cross, d, 2, 0.f);
  std::vector<Tensor> inputs{random_tensor({N, T, d}, 7), random_tensor({N, S, d}, 8)};
  for (Tensor& t : p.values(200)) inputs.push_back(t);
  expect_gradients_match(
      [&](const std::vector<Var>& x) {
        MultiHeadAttention att(testing::from_vars(x, 2), "att", MultiHeadAttention::Kind::Cross, d, 2, 0.f);
        Rng rng(1);
        return att.cross_attention(x[0], att.memory_keys_values(x[1]), mask, true, rng);
      },
      inputs);
}

TEST(Attention, PaddedKeysHaveNoInfluence) {
  const int64_t N = 2, T = 4, d = 8;
  ParamShapes p;
  MultiHeadAttention(p.recorder(), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  std::vector<Tensor> values = p.values(5);
  std::vector<Var> vars;
  for (Tensor& t : values) vars.push_back(leaf(t));
  MultiHeadAttention att(testing::from_vars(vars, 0), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  NoGradScope ng;
  Rng rng(1);
  Tensor x = random_tensor({N, T, d}, 9);
  const Tensor mask = testing::key_mask({4, 2}, T);
  Tensor a = att.self_attention(leaf(x), mask, false, false, rng)->value.clone();
  Tensor y = x.clone();
  for (int64_t i = (1 * T + 2) * d; i < N * T * d; ++i) y[i] += 3.f;  // change sentence 1's padding
  Tensor b = att.self_attention(leaf(y), mask, false, false, rng)->value;
  for (int64_t i = 0; i < (1 * T + 2) * d; ++i) EXPECT_EQ(a[i], b[i]) << i;  // every real position
  // Without the mask the same change does reach the real positions.
  Tensor c = att.self_attention(leaf(y), Tensor(), false, false, rng)->value;
  Tensor e = att.self_attention(leaf(x), Tensor(), false, false, rng)->value;
  EXPECT_NE(c[(1 * T) * d], e[(1 * T) * d]);
}

// Incremental decoding (KeyValueCache) equals causal self-attention over the whole prefix,
// past several growths of the cache's capacity (8 positions each), and after beam-search style
// row selections (reordered, repeated, dropped rows; fewer and more rows than the spare
// buffers hold) the steps go on as for the selected sentences' own prefixes.
TEST(Attention, StepEqualsCausalSelfAttention) {
  const int64_t N = 3, T = 40, d = 8;
  ParamShapes p;
  MultiHeadAttention(p.recorder(), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  std::vector<Tensor> values = p.values(11);
  std::vector<Var> vars;
  for (Tensor& t : values) vars.push_back(leaf(t));
  MultiHeadAttention att(testing::from_vars(vars, 0), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  NoGradScope ng;
  Rng rng(1);
  Tensor x = random_tensor({N, T, d}, 12);
  Tensor full = att.self_attention(leaf(x), Tensor(), true, false, rng)->value;
  // rows[n]: the sentence of cache row n; changed by selections at steps 20 and 33.
  std::vector<int32_t> rows = {0, 1, 2};
  KeyValueCache cache;
  for (int64_t t = 0; t < T; ++t) {
    // 3 -> 4 rows, 4 -> 2 (the spare buffers have room), 2 -> 5 (they do not), 5 -> 2.
    const std::map<int64_t, std::vector<int32_t>> picks = {
        {20, {2, 0, 2, 1}}, {22, {1, 3}}, {23, {0, 1, 1, 0, 1}}, {33, {3, 1}}};
    if (picks.count(t)) {
      const std::vector<int32_t>& pick = picks.at(t);
      cache.select(pick);
      std::vector<int32_t> next;
      for (int32_t r : pick) next.push_back(rows[r]);
      rows = next;
    }
    const int64_t R = static_cast<int64_t>(rows.size());
    Tensor xt({R, 1, d});
    for (int64_t n = 0; n < R; ++n) std::copy_n(x.data() + (rows[n] * T + t) * d, d, xt.data() + n * d);
    Tensor y = self_attention_step(att, leaf(xt), cache)->value;
    ASSERT_EQ(cache.steps, t + 1);
    EXPECT_GE(cache.capacity(), t + 1);
    for (int64_t n = 0; n < R; ++n)
      for (int64_t j = 0; j < d; ++j)
        EXPECT_NEAR(y[n * d + j], full[(rows[n] * T + t) * d + j], 1e-5) << "step " << t << " row " << n;
  }
  EXPECT_EQ(cache.capacity(), 40);
  EXPECT_THROW(cache.select({2}), Error);
}

// Grouped cross-attention of decoding steps equals each row's cross-attention over its own
// sentence's memory: rows in any order, groups with fewer rows than slots, padded keys.
TEST(Attention, GroupedCrossAttentionStepEqualsRowByRow) {
  const int64_t G = 3, S = 5, d = 8, H = 2;
  ParamShapes p;
  MultiHeadAttention(p.recorder(), "att", MultiHeadAttention::Kind::Cross, d, H, 0.f);
  std::vector<Tensor> values = p.values(21);
  std::vector<Var> vars;
  for (Tensor& t : values) vars.push_back(leaf(t));
  MultiHeadAttention att(testing::from_vars(vars, 0), "att", MultiHeadAttention::Kind::Cross, d, H, 0.f);
  NoGradScope ng;
  Rng rng(1);
  const Tensor enc = random_tensor({G, S, d}, 22);
  const Tensor mask = testing::key_mask({5, 3, 4}, S);
  const KeysValues memory = att.memory_keys_values(leaf(enc));
  QueryGroups groups;
  groups.group = {2, 0, 2, 1, 2, 0};
  groups.slot = {0, 0, 1, 0, 2, 1};
  groups.groups = G;
  groups.slots = 3;
  const int64_t R = 6;
  const Tensor x = random_tensor({R, 1, d}, 23);
  Var w;
  const Tensor y = cross_attention_step(att, leaf(x), memory, mask, groups, &w)->value;
  ASSERT_EQ(w->value.shape(), (Shape{R, H, 1, S}));
  for (int64_t r = 0; r < R; ++r) {
    const int32_t s = groups.group[r];
    Tensor xr({1, 1, d}), er({1, S, d}), mr({1, S});
    std::copy_n(x.data() + r * d, d, xr.data());
    std::copy_n(enc.data() + s * S * d, S * d, er.data());
    std::copy_n(mask.data() + s * S, S, mr.data());
    Var wr;
    const Tensor want = att.cross_attention(leaf(xr), att.memory_keys_values(leaf(er)), mr, false, rng, &wr)->value;
    for (int64_t j = 0; j < d; ++j) EXPECT_NEAR(y[r * d + j], want[j], 1e-5) << "row " << r;
    for (int64_t k = 0; k < H * S; ++k) EXPECT_NEAR(w->value[r * H * S + k], wr->value[k], 1e-6) << "row " << r;
  }
  groups.slot[0] = 3;  // out of range
  EXPECT_THROW(cross_attention_step(att, leaf(x), memory, mask, groups), Error);
}

TEST(Attention, StepRefusesToRecordGradients) {
  const int64_t d = 8;
  ParamShapes p;
  MultiHeadAttention(p.recorder(), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  std::vector<Tensor> values = p.values(11);
  std::vector<Var> vars;
  for (Tensor& t : values) vars.push_back(leaf(t, true));
  MultiHeadAttention att(testing::from_vars(vars, 0), "att", MultiHeadAttention::Kind::Self, d, 2, 0.f);
  KeyValueCache cache;
  EXPECT_THROW(self_attention_step(att, leaf(random_tensor({2, 1, d}, 3)), cache), Error);
  Tape::current().clear();
}

}  // namespace
}  // namespace nmt
