// The Transformer as a model (model/model.h with --type transformer and mixed
// encoder/decoder types): causality, incremental decoding against the full pass (with
// beam-style row selection), padding invariance, and a small copy task that must train.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/error.h"
#include "model/model.h"
#include "ops/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "training/optimizer.h"
#include "translate/search.h"

namespace nmt {
namespace {

constexpr int64_t kVocab = 11;

ModelConfig tiny_config(const std::string& norm = "pre", const std::string& positions = "sinusoidal") {
  ModelConfig c = ModelConfig::preset("transformer");
  c.dim_emb = 8;
  c.transformer_heads = 2;
  c.transformer_dim_ffn = 16;
  c.enc_depth = c.dec_depth = 2;
  c.transformer_norm = norm;
  c.transformer_positions = positions;
  c.max_positions = 16;
  c.src_vocab_size = c.trg_vocab_size = kVocab;
  return c;
}

// Three sentences of different lengths (sources end with </s> = 3).
SourceBatch sources() { return SourceBatch::from({{4, 5, 6, 3}, {7, 3}, {8, 9, 10, 4, 5, 3}}); }
TargetBatch targets() { return TargetBatch::from({{5, 6, 7}, {9}, {4, 4, 8, 10, 6}}); }

Tensor forward_logits(Model& m, const SourceBatch& src, const TargetBatch& trg) {
  NoGradScope ng;
  Rng rng(1);
  EncoderOutput enc = m.encoder().encode(src, false, rng);
  return m.decoder().forward(enc, trg, false, rng)->value;
}

struct Variant {
  std::string norm, positions;
};
const std::vector<Variant> kVariants{{"pre", "sinusoidal"}, {"post", "sinusoidal"}, {"pre", "learned"}};

TEST(TransformerModel, FutureTokensDoNotChangeEarlierOutputs) {
  for (const Variant& v : kVariants) {
    Model m(tiny_config(v.norm, v.positions), 3);
    const SourceBatch src = sources();
    TargetBatch trg = targets();
    const Tensor a = forward_logits(m, src, trg);
    const int64_t T = trg.length, n = 2, j = 3;  // change sentence 2's input token at position 3
    trg.input[n * T + j] = 9;
    const Tensor b = forward_logits(m, src, trg);
    for (int64_t s = 0; s < trg.batch; ++s)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < kVocab; ++k) {
          const int64_t i = (s * T + t) * kVocab + k;
          if (s == n && t >= j) continue;
          ASSERT_EQ(a[i], b[i]) << v.norm << "/" << v.positions << " sentence " << s << " position " << t;
        }
    double changed = 0;
    for (int64_t k = 0; k < kVocab; ++k)
      changed += std::fabs(a[(n * T + j) * kVocab + k] - b[(n * T + j) * kVocab + k]);
    EXPECT_GT(changed, 1e-4) << "the changed token must change its own position's logits";
  }
}

// Steps through the teacher tokens of `sentences` (rows of the batch, maybe repeated)
// from step `from` to the end, comparing each step's logits with the full pass.
void expect_steps_match(Model& m, DecoderState& st, const TargetBatch& trg, const Tensor& full,
                        const std::vector<int32_t>& sentences, int64_t from, int64_t to, const SourceBatch& src) {
  const int64_t T = trg.length;
  for (int64_t t = from; t < to; ++t) {
    std::vector<int32_t> prev;
    for (int32_t s : sentences) prev.push_back(trg.input[s * T + t]);
    Tensor logits = m.decoder().step(st, prev)->value;
    ASSERT_EQ(logits.shape(), (Shape{static_cast<int64_t>(sentences.size()), kVocab}));
    for (size_t r = 0; r < sentences.size(); ++r)
      for (int64_t k = 0; k < kVocab; ++k)
        ASSERT_NEAR(logits[r * kVocab + k], full[(sentences[r] * T + t) * kVocab + k], 1e-4)
            << "row " << r << " (sentence " << sentences[r] << ") step " << t;
    // Alignments: the last layer's cross-attention averaged over heads, [rows, S],
    // a distribution over each row's real source positions.
    Tensor a = st.last_attention();
    ASSERT_EQ(a.shape(), (Shape{static_cast<int64_t>(sentences.size()), src.length}));
    for (size_t r = 0; r < sentences.size(); ++r) {
      double sum = 0;
      for (int64_t s = 0; s < src.length; ++s) {
        sum += a[r * src.length + s];
        if (s >= src.lengths[sentences[r]]) {
          EXPECT_EQ(a[r * src.length + s], 0.f);
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

TEST(TransformerModel, IncrementalDecodingEqualsFullPass) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.norm + "/" + v.positions);
    Model m(tiny_config(v.norm, v.positions), 5);
    const SourceBatch src = sources();
    const TargetBatch trg = targets();
    const Tensor full = forward_logits(m, src, trg);
    NoGradScope ng;
    Rng rng(1);
    EncoderOutput enc = m.encoder().encode(src, false, rng);
    ASSERT_TRUE(m.decoder().has_attention());
    // Straight through, every position (padded ones included: no target mask is needed).
    std::unique_ptr<DecoderState> st = m.decoder().start(enc);
    expect_steps_match(m, *st, trg, full, {0, 1, 2}, 0, trg.length, src);
    // Reordered and duplicated rows half way, as beam search does; then a row dropped.
    std::unique_ptr<DecoderState> st2 = m.decoder().start(enc);
    expect_steps_match(m, *st2, trg, full, {0, 1, 2}, 0, 2, src);
    st2->select({2, 0, 0, 1});
    expect_steps_match(m, *st2, trg, full, {2, 0, 0, 1}, 2, 4, src);
    st2->select({3, 0});
    expect_steps_match(m, *st2, trg, full, {1, 2}, 4, trg.length, src);
    // Selecting before the first step (beam search expands the start state) works too.
    std::unique_ptr<DecoderState> st3 = m.decoder().start(enc);
    st3->select({1, 1, 2});
    expect_steps_match(m, *st3, trg, full, {1, 1, 2}, 0, trg.length, src);
  }
}

TEST(TransformerModel, OutputsDoNotDependOnPadding) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.norm + "/" + v.positions);
    Model m(tiny_config(v.norm, v.positions), 7);
    // Sentence "A" alone, and in the middle of a batch whose other sentences are longer
    // (source and target) and shorter.
    const std::vector<int32_t> a_src{4, 5, 6, 3}, a_trg{5, 6, 7};
    const SourceBatch alone_src = SourceBatch::from({a_src});
    const TargetBatch alone_trg = TargetBatch::from({a_trg});
    const SourceBatch batch_src = SourceBatch::from({{8, 9, 10, 4, 5, 6, 7, 3}, a_src, {7, 3}});
    const TargetBatch batch_trg = TargetBatch::from({{4, 4, 8, 10, 6, 5}, a_trg, {9}});
    NoGradScope ng;
    Rng rng(1);
    const Tensor la = m.token_losses(alone_src, alone_trg, 0.1f, false, rng)->value;
    const Tensor lb = m.token_losses(batch_src, batch_trg, 0.1f, false, rng)->value;
    const Tensor fa = forward_logits(m, alone_src, alone_trg);
    const Tensor fb = forward_logits(m, batch_src, batch_trg);
    const int64_t Ta = alone_trg.length, Tb = batch_trg.length;
    for (int64_t t = 0; t < Ta; ++t) {
      EXPECT_NEAR(la[t], lb[1 * Tb + t], 1e-5) << "position " << t;
      for (int64_t k = 0; k < kVocab; ++k)
        EXPECT_NEAR(fa[t * kVocab + k], fb[(1 * Tb + t) * kVocab + k], 1e-5) << "position " << t;
    }
    for (int64_t t = 3; t < Tb; ++t) EXPECT_EQ(lb[2 * Tb + t], 0.f);  // padding has no loss
    // The encoder states are zero at padding, and equal alone and in the batch.
    EncoderOutput ea = m.encoder().encode(alone_src, false, rng), eb = m.encoder().encode(batch_src, false, rng);
    const int64_t S = batch_src.length, d = 8;
    for (int64_t s = 0; s < S; ++s)
      for (int64_t j = 0; j < d; ++j) {
        const float x = eb.states->value[((1 * S) + s) * d + j];
        if (s < 4) {
          EXPECT_NEAR(x, ea.states->value[s * d + j], 1e-5);
        } else {
          EXPECT_EQ(x, 0.f);
        }
      }
  }
}

// Training goes through the decoder's fused output layer + loss; it must equal the loss
// of forward()'s logits, and so must every parameter gradient.
TEST(TransformerModel, FusedLossEqualsLossOfLogits) {
  Model m(tiny_config(), 9);
  const SourceBatch src = sources();
  const TargetBatch trg = targets();
  auto run = [&](bool fused) {
    m.params().zero_grads();
    Rng rng(1);
    EncoderOutput enc = m.encoder().encode(src, false, rng);
    Var losses = fused ? m.decoder().token_losses(enc, trg, 0.1f, false, rng)
                       : cross_entropy(m.decoder().forward(enc, trg, false, rng), trg.output, 0.1f, 0);
    Tape::current().backward(sum(losses));
    std::vector<float> grads(m.params().grads(), m.params().grads() + m.params().size());
    return std::make_pair(losses->value.to_vector(), grads);
  };
  const auto fused = run(true), composed = run(false);
  ASSERT_EQ(fused.first.size(), static_cast<size_t>(trg.batch * trg.length));
  for (size_t i = 0; i < fused.first.size(); ++i) EXPECT_NEAR(fused.first[i], composed.first[i], 1e-5) << i;
  double norm = 0;
  for (size_t i = 0; i < fused.second.size(); ++i) {
    EXPECT_NEAR(fused.second[i], composed.second[i], 1e-5) << "gradient element " << i;
    norm += std::fabs(fused.second[i]);
  }
  EXPECT_GT(norm, 0);
}

TEST(TransformerModel, PresetShapesAndTiedOutput) {
  ModelConfig c = ModelConfig::preset("transformer");
  c.src_vocab_size = c.trg_vocab_size = 100;
  Model m(c, 1);
  EXPECT_EQ(m.encoder().output_dim(), 256);
  const ParamStore& p = m.params();
  EXPECT_TRUE(p.contains("encoder.l2.self_attention.w_qkv"));
  EXPECT_FALSE(p.contains("encoder.l3.self_attention.w_qkv"));
  EXPECT_EQ(p.shape("decoder.l0.ffn.w1"), (Shape{1024, 256}));
  EXPECT_EQ(p.shape("decoder.l2.cross_attention.w_kv"), (Shape{512, 256}));
  EXPECT_TRUE(p.contains("decoder.final_norm.gamma"));
  EXPECT_TRUE(p.contains("encoder.final_norm.gamma"));
  // Tied: one embedding table for source, target and output; no output bias.
  EXPECT_FALSE(p.contains("embeddings.src"));
  EXPECT_FALSE(p.contains("decoder.output.weight"));
  EXPECT_FALSE(p.contains("decoder.output.bias"));
  ModelConfig post = tiny_config("post", "learned");
  Model mp(post, 1);
  EXPECT_FALSE(mp.params().contains("decoder.final_norm.gamma"));
  EXPECT_EQ(mp.params().shape("encoder.positions"), (Shape{16, 8}));
  EXPECT_EQ(mp.params().shape("decoder.positions"), (Shape{16, 8}));
}

TEST(TransformerModel, LearnedPositionsLimitTheLength) {
  Model m(tiny_config("pre", "learned"), 1);
  NoGradScope ng;
  Rng rng(1);
  const SourceBatch too_long = SourceBatch::from({std::vector<int32_t>(17, 4)});
  EXPECT_THROW(m.encoder().encode(too_long, false, rng), InputError);
}

// A Transformer encoder under the RNN decoders (which bridge from the mean of the states:
// it has no final RNN states), and an RNN encoder under the Transformer decoder.
TEST(TransformerModel, MixesWithRnnEncodersAndDecoders) {
  const SourceBatch src = sources();
  const TargetBatch trg = targets();
  for (const char* dec : {"attention", "bottleneck"}) {
    ModelConfig c = tiny_config();
    c.type = "custom";
    c.dec_type = dec;
    c.dim_rnn = 12;
    c.dim_att = 6;
    Model m(c, 1);
    NoGradScope ng;
    Rng rng(1);
    const Tensor l = m.token_losses(src, trg, 0.f, false, rng)->value;
    for (int64_t i = 0; i < l.numel(); ++i) ASSERT_TRUE(std::isfinite(l[i]));
    SearchOptions o;
    o.beam_size = 2;
    EXPECT_EQ(search(m, src, o).size(), 3u) << dec;
  }
  ModelConfig c = tiny_config();
  c.type = "custom";
  c.enc_type = "rnn";
  c.enc_bidirectional = true;
  c.dim_rnn = 8;  // == dim_emb
  Model m(c, 1);
  const Tensor full = forward_logits(m, src, trg);
  NoGradScope ng;
  Rng rng(1);
  EncoderOutput enc = m.encoder().encode(src, false, rng);
  std::unique_ptr<DecoderState> st = m.decoder().start(enc);
  expect_steps_match(m, *st, trg, full, {0, 1, 2}, 0, trg.length, src);
  c.dim_rnn = 12;
  EXPECT_THROW(Model(c, 1), InputError);
}

// output = input over 10 symbols, lengths 3-6, built directly as batches; a few hundred
// Adam steps of the preset (small dims, dropout off) must reach a low loss (it starts at
// ln 14 = 2.6 and gets to ~0.02 in 300 steps), and greedy search must then copy held-out
// sentences.
TEST(TransformerModel, LearnsToCopy) {
  ModelConfig c = ModelConfig::preset("transformer");
  c.dim_emb = 32;
  c.transformer_heads = 4;
  c.transformer_dim_ffn = 64;
  c.enc_depth = c.dec_depth = 2;
  c.src_vocab_size = c.trg_vocab_size = 14;  // 4 specials + 10 symbols
  c.transformer_dropout = 0.f;               // the loss then measures learning, not dropout noise
  Model m(c, 11);
  Adam adam(m.params());
  Rng data(5), rng(6);
  auto sentences = [&](int n) {
    std::vector<std::vector<int32_t>> out;
    for (int i = 0; i < n; ++i) {
      std::vector<int32_t> s(3 + data.below(4));
      for (int32_t& x : s) x = 4 + static_cast<int32_t>(data.below(10));
      out.push_back(s);
    }
    return out;
  };
  auto with_eos = [](std::vector<std::vector<int32_t>> s) {
    for (auto& x : s) x.push_back(3);
    return s;
  };
  double recent = 0;
  const int steps = 300;
  for (int step = 1; step <= steps; ++step) {
    const auto batch = sentences(32);
    const SourceBatch src = SourceBatch::from(with_eos(batch));
    const TargetBatch trg = TargetBatch::from(batch);
    m.params().zero_grads();
    Var loss = scale(sum(m.token_losses(src, trg, 0.f, true, rng)), 1.0f / static_cast<float>(trg.tokens));
    Tape::current().backward(loss);
    adam.step(lr_at(step, 3e-3f, 30, false), clip_scale(grad_norm(m.params()), 1.0f));
    if (step > steps - 20) recent += loss->value[0] / 20;
  }
  EXPECT_LT(recent, 0.1) << "mean training loss over the last 20 updates";
  const auto held_out = sentences(16);
  const auto hyps = greedy_search(m, SourceBatch::from(with_eos(held_out)), SearchOptions{});
  int copied = 0;
  for (size_t i = 0; i < held_out.size(); ++i) copied += hyps[i].tokens == held_out[i];
  EXPECT_GE(copied, 14) << "of 16 held-out sentences copied exactly";
  // Beam search (select() reorders and duplicates the caches) copies as well, and its
  // alignments have one row per output token plus </s>, over the real source positions.
  SearchOptions beam;
  beam.beam_size = 4;
  beam.keep_alignment = true;
  const auto best = search(m, SourceBatch::from(with_eos(held_out)), beam);
  int beam_copied = 0;
  for (size_t i = 0; i < held_out.size(); ++i) {
    const Hypothesis& h = best[i].at(0);
    beam_copied += h.tokens == held_out[i];
    ASSERT_EQ(h.alignment.size(), h.tokens.size() + 1);
    for (const auto& row : h.alignment) EXPECT_EQ(row.size(), held_out[i].size() + 1);
  }
  EXPECT_GE(beam_copied, 14) << "of 16 held-out sentences copied exactly by beam search";
}

}  // namespace
}  // namespace nmt
