// Padding invariance of the training loss (C++ API): a sentence's per-token losses,
// and the parameter gradients of its loss, are the same whether it is alone in its
// batch or padded next to longer and shorter sentences. Padding positions have zero
// loss and contribute nothing to the gradients. Checked for the RNN model types (and the
// Transformer) with dropout configured but training=false (so no dropout is drawn), and for
// the transformer and an attention model with bfloat16 products (--precision bfloat16:
// rounding is per element, so a sentence's rows still meet only their own values).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/random.h"
#include "model/model.h"
#include "ops/bf16.h"

namespace nmt {
namespace {

struct Case {
  std::string name;
  std::string type;  // preset
  std::string cell;
  bool bidirectional;
  std::string attention;
  int depth;
  bool bf16 = false;  // products under a Bf16Scope (ops/bf16.h)
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class PaddingInvarianceTest : public ::testing::TestWithParam<Case> {
 protected:
  static ModelConfig config(const Case& c) {
    ModelConfig m = ModelConfig::preset(c.type);
    m.cell = c.cell;
    m.enc_bidirectional = c.bidirectional;
    m.attention = c.attention;
    m.enc_depth = m.dec_depth = c.depth;
    m.dim_emb = 8;
    m.dim_rnn = 12;
    m.dim_att = 6;
    m.dropout = 0.3f;  // must not matter: training=false below
    m.transformer_heads = 2;
    m.transformer_dim_ffn = 16;
    m.transformer_dropout = 0.3f;
    m.transformer_dropout_attention = 0.3f;
    m.src_vocab_size = m.trg_vocab_size = 20;
    return m;
  }
};

// The sentence under test and its batch mates (ids >= 4: no specials; sources end with </s> = 3).
const std::vector<int32_t> kSrc = {5, 9, 7, 12, 3};
const std::vector<int32_t> kTrg = {8, 6, 15, 4};
const std::vector<std::vector<int32_t>> kLongerSrc = {{4, 5, 6, 7, 8, 9, 10, 11, 3}, {19, 18, 17, 16, 15, 14, 3}};
const std::vector<std::vector<int32_t>> kLongerTrg = {{11, 10, 9, 8, 7, 6, 5, 4}, {14, 15, 16, 17, 18, 19, 4}};
const std::vector<int32_t> kShortSrc = {13, 3};
const std::vector<int32_t> kShortTrg = {13};

struct Result {
  std::vector<float> losses;  // the sentence's T = len(trg) + 1 losses
  std::vector<float> padded;  // losses at its padding positions (must be 0)
  std::vector<float> grads;   // gradient arena of d(sum of its losses)/d params
};

// Runs the model on `srcs`/`trgs` and returns what concerns sentence `row`.
Result run(Model& model, const std::vector<std::vector<int32_t>>& srcs, const std::vector<std::vector<int32_t>>& trgs,
           size_t row, bool bf16) {
  Tape::current().clear();
  model.params().zero_grads();
  Bf16Scope products(bf16, &model.params());
  SourceBatch src = SourceBatch::from(srcs);
  TargetBatch trg = TargetBatch::from(trgs);
  Rng rng(7);
  Var losses = model.token_losses(src, trg, 0.1f, false, rng);
  EXPECT_EQ(losses->value.numel(), trg.batch * trg.length);
  Result r;
  Tensor seed = Tensor::zeros(losses->value.shape());
  for (int64_t t = 0; t < trg.length; ++t) {
    const int64_t i = static_cast<int64_t>(row) * trg.length + t;
    if (t < trg.lengths[row]) {
      r.losses.push_back(losses->value[i]);
      seed[i] = 1.0f;
    } else {
      r.padded.push_back(losses->value[i]);
    }
  }
  Tape::current().backward(losses, seed);
  const float* g = model.params().grads();
  r.grads.assign(g, g + model.params().size());
  return r;
}

TEST_P(PaddingInvarianceTest, LossesAndGradientsOfASentenceDoNotDependOnItsBatch) {
  const Case& c = GetParam();
  if (c.bf16 && bf16_support() == Bf16Support::none) GTEST_SKIP() << "no bfloat16 products on this CPU";
  Model model(config(c), 3);

  const Result alone = run(model, {kSrc}, {kTrg}, 0, c.bf16);
  ASSERT_EQ(alone.losses.size(), kTrg.size() + 1);
  EXPECT_TRUE(alone.padded.empty());
  double grad_norm = 0;
  for (float g : alone.grads) grad_norm += double(g) * g;
  ASSERT_GT(grad_norm, 1e-8) << "no gradient reached the parameters";
  if (c.bf16) {  // the products did round: the fp32 losses differ
    const Result fp32 = run(model, {kSrc}, {kTrg}, 0, false);
    double diff = 0;
    for (size_t t = 0; t < alone.losses.size(); ++t)
      diff = std::max(diff, double(std::fabs(fp32.losses[t] - alone.losses[t])));
    EXPECT_GT(diff, 1e-6) << "bfloat16 products gave the fp32 losses";
  }

  // Among longer and shorter sentences, at different rows (padded on both sides of
  // the source and target length).
  const std::vector<std::vector<std::vector<int32_t>>> src_batches = {
      {kLongerSrc[0], kSrc, kShortSrc}, {kShortSrc, kLongerSrc[1], kLongerSrc[0], kSrc}, {kSrc, kShortSrc}};
  const std::vector<std::vector<std::vector<int32_t>>> trg_batches = {
      {kLongerTrg[0], kTrg, kShortTrg}, {kShortTrg, kLongerTrg[1], kLongerTrg[0], kTrg}, {kTrg, kShortTrg}};
  const std::vector<size_t> rows = {1, 3, 0};
  for (size_t b = 0; b < rows.size(); ++b) {
    SCOPED_TRACE(::testing::Message() << "batch " << b);
    const Result in_batch = run(model, src_batches[b], trg_batches[b], rows[b], c.bf16);
    ASSERT_EQ(in_batch.losses.size(), alone.losses.size());
    for (size_t t = 0; t < alone.losses.size(); ++t)
      EXPECT_NEAR(in_batch.losses[t], alone.losses[t], 1e-5) << "position " << t;
    for (float p : in_batch.padded) EXPECT_EQ(p, 0.0f) << "loss at a padding position";
    ASSERT_EQ(in_batch.grads.size(), alone.grads.size());
    int bad = 0;
    for (size_t i = 0; i < alone.grads.size() && bad < 5; ++i) {
      const float tol = 1e-5f + 1e-4f * std::fabs(alone.grads[i]);
      if (std::fabs(in_batch.grads[i] - alone.grads[i]) > tol) {
        ++bad;
        ADD_FAILURE() << "gradient element " << i << ": alone " << alone.grads[i] << ", in batch " << in_batch.grads[i];
      }
    }
  }
}

// The other sentences of a batch change nothing either: the gradients of the whole
// batch's loss are the sum of each sentence's gradients computed alone.
TEST_P(PaddingInvarianceTest, BatchGradientIsTheSumOfSentenceGradients) {
  const Case& c = GetParam();
  if (c.bf16 && bf16_support() == Bf16Support::none) GTEST_SKIP() << "no bfloat16 products on this CPU";
  Model model(config(c), 5);
  const std::vector<std::vector<int32_t>> srcs = {kLongerSrc[0], kSrc, kShortSrc};
  const std::vector<std::vector<int32_t>> trgs = {kLongerTrg[0], kTrg, kShortTrg};
  std::vector<double> sum(static_cast<size_t>(model.params().size()), 0.0);
  for (size_t i = 0; i < srcs.size(); ++i) {
    const Result r = run(model, {srcs[i]}, {trgs[i]}, 0, c.bf16);
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += r.grads[k];
  }
  // Whole batch: seed every real position.
  Tape::current().clear();
  model.params().zero_grads();
  Bf16Scope products(c.bf16, &model.params());
  TargetBatch trg = TargetBatch::from(trgs);
  Rng rng(7);
  Var losses = model.token_losses(SourceBatch::from(srcs), trg, 0.1f, false, rng);
  Tape::current().backward(losses, Tensor::full(losses->value.shape(), 1.0f));
  const float* g = model.params().grads();
  int bad = 0;
  for (size_t k = 0; k < sum.size() && bad < 5; ++k) {
    if (std::fabs(g[k] - sum[k]) > 1e-5 + 1e-4 * std::fabs(sum[k])) {
      ++bad;
      ADD_FAILURE() << "gradient element " << k << ": batch " << g[k] << ", sum of sentences " << sum[k];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, PaddingInvarianceTest,
    ::testing::Values(Case{"bottleneck_lstm", "bottleneck", "lstm", false, "general", 2},
                      Case{"bottleneck_gru_bidirectional", "bottleneck", "gru", true, "general", 1},
                      Case{"bottleneck_tanh", "bottleneck", "rnn", false, "general", 1},
                      Case{"attention_lstm_general", "attention", "lstm", true, "general", 1},
                      Case{"attention_gru_mlp", "attention", "gru", true, "mlp", 2},
                      Case{"attention_lstm_dot_unidirectional", "attention", "lstm", false, "dot", 1},
                      Case{"transformer", "transformer", "lstm", false, "general", 2},
                      Case{"transformer_bf16", "transformer", "lstm", false, "general", 2, true},
                      Case{"attention_lstm_general_bf16", "attention", "lstm", true, "general", 1, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace nmt
